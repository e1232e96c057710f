import type { Store } from './store.ts';

/** What a write changed: runs (with their params, tags, notes and artifacts), metric points, model versions. */
export type ChangeKind = 'runs' | 'metrics' | 'models';
export const ALL_KINDS: readonly ChangeKind[] = ['runs', 'metrics', 'models'];

/** One change event. */
export interface StoreChange {
  readonly kinds: ReadonlySet<ChangeKind>;
  /** Found by looking (another window's or process's commit, or a write that skipped this path), not announced: every kind is set. */
  readonly external: boolean;
}

/** The store as the domain reads and writes it (the extension's WorkspaceStore). */
export interface StoreAccess {
  /** The store for reads, if there is one; never creates it. */
  get(): Store | undefined;
  /** fn in one transaction, then one change event naming `kinds`. */
  write<T>(kinds: readonly ChangeKind[], fn: (store: Store) => T): T;
}

/** The kinds a write names, or (for work that finds out as it goes) a function of its result. */
export type Kinds<R> = readonly ChangeKind[] | ((result: R) => readonly ChangeKind[]);

const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as PromiseLike<unknown> | undefined)?.then === 'function';

export const touches = (change: StoreChange, kinds: readonly ChangeKind[]): boolean => kinds.some((k) => change.kinds.has(k));

export interface StoreWritesDeps {
  /** The store to write to (opened, or created, on demand). */
  store: () => Store;
  fire: (change: StoreChange) => void;
  /** Told when rows were written without this path (a bug); the change is announced anyway. */
  stray?: (message: string) => void;
  /**
   * True while another connection of this process watches data_version for this one: the ingest
   * worker while it follows runs. Its own commits come as writes here naming their kinds, and other
   * connections' commits it sees as a write naming every kind (RunMonitor.othersCommitted). check(),
   * and every write that began while watched, then only keep up with data_version (strays are still
   * looked for).
   */
  watched?: () => boolean;
}

/**
 * The one path for writes to the store. PRAGMA data_version does not move for a connection's own
 * commits, so each write here fires one change event naming what it changed (none when it names
 * no kinds). check(), polled, finds other connections' commits and writes that skipped this path.
 */
export class StoreWrites {
  // Private members are #private: the public ones (the writes, and check) are what the unit test enumerates.
  readonly #deps: StoreWritesDeps;
  /** The store last looked at: its data_version, and its change count once this path's writes are counted. */
  #seen: { store: Store; version: number; changes: number } | undefined;
  /** Writes in progress (work with awaits overlaps others); strays are looked for only between writes. */
  #going = 0;

  constructor(deps: StoreWritesDeps) {
    this.#deps = deps;
  }

  /** fn in one transaction, then one change event naming `kinds`; nothing is announced when it throws (rolled back). */
  write<T>(kinds: readonly ChangeKind[], fn: (store: Store) => T): T {
    const watched = this.#watched();
    const store = this.#begin();
    let result: T;
    try {
      result = store.transaction(() => fn(store));
    } catch (err) {
      this.#end(store, [], watched);
      throw err;
    }
    this.#end(store, kinds, watched);
    return result;
  }

  /**
   * Work that commits by itself, in steps or across awaits (an import, an artifact copy, the ingest of
   * running runs): one change event once it returns or its promise settles. When it fails, its first
   * steps may have committed: it names `kinds`, or every kind when they depend on its result.
   */
  writeSteps<T>(kinds: Kinds<Awaited<T>>, fn: (store: Store) => T): T {
    const watched = this.#watched();
    const store = this.#begin();
    const done = (result: Awaited<T>) => this.#end(store, typeof kinds === 'function' ? kinds(result) : kinds, watched);
    const failed = (err: unknown) => {
      this.#end(store, typeof kinds === 'function' ? ALL_KINDS : kinds, watched);
      throw err;
    };
    let result: T;
    try {
      result = fn(store);
    } catch (err) {
      return failed(err);
    }
    if (!isThenable(result)) {
      done(result as Awaited<T>);
      return result;
    }
    return Promise.resolve(result).then((v) => { done(v); return v; }, failed) as T;
  }

  /** Polled: one external change for other connections' commits and for writes that skipped this path. */
  check(store: Store): void {
    if (this.#seen?.store !== store) {
      this.#look(store);
      return;
    }
    const version = store.dataVersion();
    const other = version !== this.#seen.version && !this.#watched();
    this.#seen.version = version;
    const stray = this.#going === 0 && this.#strayed(store);
    if (other || stray) this.#deps.fire({ kinds: new Set(ALL_KINDS), external: true });
  }

  #begin(): Store {
    const store = this.#deps.store();
    if (this.#seen?.store !== store) this.#look(store);
    else if (this.#going === 0 && this.#strayed(store)) this.#deps.fire({ kinds: new Set(ALL_KINDS), external: true });
    this.#going++;
    return store;
  }

  #end(store: Store, kinds: readonly ChangeKind[], watched: boolean): void {
    this.#going--;
    if (this.#seen?.store === store && store.isOpen) {
      this.#seen.changes = store.changeCount();
      if (watched) this.#seen.version = store.dataVersion();
    }
    if (kinds.length) this.#deps.fire({ kinds: new Set(kinds), external: false });
  }

  #watched(): boolean {
    return this.#deps.watched?.() ?? false;
  }

  /** A store not seen before (just opened): what it looks like now is the baseline. */
  #look(store: Store): void {
    this.#seen = { store, version: store.dataVersion(), changes: store.changeCount() };
  }

  #strayed(store: Store): boolean {
    const changes = store.changeCount();
    const n = changes - this.#seen!.changes;
    if (!n) return false;
    this.#seen!.changes = changes;
    this.#deps.stray?.(`${n} row(s) were written to the store without StoreWrites; announced as a change of everything`);
    return true;
  }
}
