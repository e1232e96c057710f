import { Store } from '../../../src/core/store/store.ts';
import type { ParamValue } from '../../../src/core/types.ts';
import { series, tempDir } from '../helpers.ts';

/**
 * Six runs, oldest first. val_acc is logged as a curve whose last value counts (r4 peaks at 0.95
 * but ends at 0.625); r5 has no val_acc; r6's last val_acc is NaN. train_loss is on every run.
 */
export function fixture() {
  let clock = 1_700_000_000_000;
  const store = Store.open(tempDir(), { now: () => (clock += 1000) });
  const runs: number[] = [];
  const add = (params: Record<string, ParamValue>, acc: number[] | null, loss: number) => {
    const r = store.runs.create({ status: 'finished', params });
    if (acc) store.metrics.append(r.id, 'val_acc', series(0, acc.length, (s) => acc[s]!));
    store.metrics.append(r.id, 'train_loss', series(0, 2, (s) => (s ? loss : 9)));
    runs.push(r.id);
  };
  add({ lr: 0.001, hidden: 8, opt: 'adam', amp: true }, [0.5, 0.875], 0.5);
  add({ lr: 0.001, hidden: 16, opt: 'sgd', amp: false }, [0.75], 0.4);
  add({ lr: 0.003, hidden: 16, opt: 'adam' }, [0.9375], 0.3);
  add({ lr: 0.01, hidden: 8 }, [0.5, 0.95, 0.625], 0.2);
  add({ lr: 0.003, hidden: 8 }, null, 0.6);
  add({ lr: 0.01 }, [0.8, NaN], 0.1);
  return { store, runs };
}
