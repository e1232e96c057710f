import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readHfTrainerState } from '../../../src/core/formats/hfTrainerState.ts';

const TIME = 1_700_000_000_000;

// As Trainer writes it: json.dumps(..., indent=2, sort_keys=True), so NaN may appear bare.
const STATE = `{
  "best_metric": null,
  "best_model_checkpoint": null,
  "epoch": 2.0,
  "eval_steps": 500,
  "global_step": 20,
  "is_hyper_param_search": false,
  "log_history": [
    { "epoch": 0.5, "grad_norm": 1.25, "learning_rate": 5e-05, "loss": 2.5, "step": 5 },
    { "epoch": 1.0, "grad_norm": NaN, "learning_rate": 2.5e-05, "loss": 1.75, "step": 10 },
    { "epoch": 1.0, "eval_loss": 1.5, "eval_runtime": 0.25, "eval_samples_per_second": Infinity, "step": 10 },
    { "epoch": 2.0, "step": 20, "total_flos": 1234, "train_loss": 2.0, "train_runtime": 12.5, "note": "a string: NaN" },
    { "epoch": 2.0, "loss": 9 }
  ],
  "logging_steps": 5,
  "max_steps": 20,
  "num_train_epochs": 2,
  "train_batch_size": 8,
  "trial_name": null,
  "trial_params": { "lr": 0.001 }
}`;

test('log_history: every number but step is a point at that step, epoch included (once per step)', () => {
  const r = readHfTrainerState(STATE, TIME);
  const p = (key: string, step: number, value: number) => ({ key, step, time: TIME, value });
  assert.deepEqual(r.points, [
    p('epoch', 5, 0.5), p('grad_norm', 5, 1.25), p('learning_rate', 5, 5e-5), p('loss', 5, 2.5),
    p('epoch', 10, 1), p('grad_norm', 10, NaN), p('learning_rate', 10, 2.5e-5), p('loss', 10, 1.75),
    p('eval_loss', 10, 1.5), p('eval_runtime', 10, 0.25), p('eval_samples_per_second', 10, Infinity),
    p('epoch', 20, 2), p('total_flos', 20, 1234), p('train_loss', 20, 2), p('train_runtime', 20, 12.5),
  ]);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0]!, /skipped 1 log_history entry without a numeric step/);
  assert.deepEqual(r.params, { train_batch_size: 8, num_train_epochs: 2, max_steps: 20, logging_steps: 5, eval_steps: 500, lr: 0.001 });
  assert.equal(r.consumed, Buffer.byteLength(STATE));
});

test('broken JSON (a file half rewritten) gives a problem and consumes nothing', () => {
  for (const text of [STATE.slice(0, 200), '', 'NaN,', '{"log_history": [ {"step": 1, "loss": NaN']) {
    const r = readHfTrainerState(text, TIME);
    assert.deepEqual(r.points, [], text);
    assert.equal(r.consumed, 0);
    assert.match(r.problems[0]!, /not valid JSON/);
  }
});

test('JSON without a log_history list is a problem', () => {
  const r = readHfTrainerState('{"global_step": 3}', TIME);
  assert.deepEqual(r.points, []);
  assert.match(r.problems[0]!, /no log_history/);
});
