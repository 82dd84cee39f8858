/**
 * Moves WAL checkpoints off the writer's thread. The writer's connection
 * turns automatic checkpoints off; a Worker checkpoints in the background
 * after every {@linkcode SOFT_BYTES} of estimated WAL growth, so the WAL
 * resets often and commits overwrite pages already in the page cache
 * instead of appending new ones (appending costs about 1.3 µs per KiB on
 * this machine's disk). Writers wait only when the WAL holds more than
 * {@linkcode HARD_BYTES}. Without a Worker (it failed to start), SQLite's
 * own automatic checkpoints apply.
 *
 * @module
 */

import type { Db } from "./db.ts";

const SOFT_BYTES = 4 << 20;
/** Pages a metadata-only commit typically dirties (measured: 4 to 8). */
const PAGES_PER_COMMIT = 8;
const HARD_BYTES = 256 << 20;
/** Frames left after a pass up to this size are copied by the writer... */
const TAIL_BYTES = 2 << 20;
/** ...once the log is this long: a shorter one may keep growing. */
const REWIND_BYTES = 16 << 20;

/** Slots of the shared control array. */
export const CTL = {
  /** Pass number the writer asks for. */
  request: 0,
  /** Pass number the Worker finished last. */
  done: 1,
  /** `log` and `checkpointed` frame counts of that pass. */
  log: 2,
  checkpointed: 3,
  /** 1 when that pass succeeded. */
  ok: 4,
  /** Set to stop the Worker. */
  stop: 5,
} as const;

/** The background checkpointer of one store connection. */
export class Checkpointer {
  readonly #db: Db;
  #worker: Worker | null = null;
  #ctl = new Int32Array(new SharedArrayBuffer(6 * 4));
  /** Pass last requested; a pass is running while it is not done. */
  #requested = 0;
  /** Pending bytes when the running pass was requested. */
  #atStart = 0;
  /** Bytes committed since the WAL was last fully checkpointed (estimate). */
  #pending = 0;
  #pageSize: number;

  constructor(db: Db) {
    this.#db = db;
    this.#pageSize = Number(db.value("PRAGMA page_size"));
  }

  /** Starts the Worker; on failure SQLite's automatic checkpoints stay on. */
  async start(): Promise<void> {
    if (this.#db.readOnly || this.#db.path === ":memory:") return;
    try {
      const worker = new Worker(new URL("./checkpoint_worker.ts", import.meta.url), {
        type: "module",
      });
      this.#worker = worker;
      const reply = await new Promise<{ ok: boolean; error?: string }>((resolve) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => {
          e.preventDefault();
          resolve({ ok: false, error: e.message });
        };
        worker.postMessage({ path: this.#db.path, control: this.#ctl.buffer });
      });
      if (!reply.ok) throw new Error(reply.error);
      worker.onerror = (e) => {
        e.preventDefault();
        this.#fail();
      };
      this.#db.exec("PRAGMA wal_autocheckpoint = 0");
    } catch {
      this.#fail();
    }
  }

  #fail(): void {
    this.#worker?.terminate();
    this.#worker = null;
    try {
      this.#db.exec("PRAGMA wal_autocheckpoint = 1000");
    } catch { /* closed */ }
  }

  /** True while a requested pass has not finished; settles a finished one. */
  #busy(): boolean {
    if (Atomics.load(this.#ctl, CTL.done) !== this.#requested) return true;
    if (this.#atStart >= 0) {
      // What was in the WAL at the start is done unless frames are left
      // over; bytes committed meanwhile are still to do.
      if (Atomics.load(this.#ctl, CTL.ok) === 1) {
        const log = Atomics.load(this.#ctl, CTL.log);
        const left = Math.max(0, log - Atomics.load(this.#ctl, CTL.checkpointed));
        this.#pending = Math.max(0, this.#pending - this.#atStart) + left * this.#pageSize;
        // The log restarts from its beginning only once every frame is
        // copied, which a pass racing a busy writer never reaches. Once it
        // is long, copy the few frames committed during the pass here,
        // between commits, so the next commit rewinds it.
        if (this.#pending < TAIL_BYTES && log * this.#pageSize >= REWIND_BYTES) this.#tail();
      }
      this.#atStart = -1;
    }
    return false;
  }

  #tail(): void {
    try {
      const r = this.#db.get<{ busy: number; log: number; checkpointed: number }>(
        "PRAGMA wal_checkpoint(PASSIVE)",
      );
      if (r && r.busy === 0) this.#pending = Math.max(0, r.log - r.checkpointed) * this.#pageSize;
    } catch { /* the next pass retries */ }
  }

  /** Asks the Worker for a pass unless one is running. */
  #kick(): void {
    if (!this.#worker || this.#busy()) return;
    this.#atStart = this.#pending;
    this.#requested++;
    Atomics.store(this.#ctl, CTL.request, this.#requested);
    Atomics.notify(this.#ctl, CTL.request);
  }

  /** Resolves once no pass is running. */
  async #idle(): Promise<void> {
    while (this.#worker && this.#busy()) await new Promise((r) => setTimeout(r, 1));
  }

  /**
   * Records a commit that stored `bytes` of content; may start a
   * checkpoint. Every commit also dirties a few metadata pages.
   */
  committed(bytes: number): void {
    if (!this.#worker) return;
    this.#pending += Math.max(0, bytes) + PAGES_PER_COMMIT * this.#pageSize;
    if (!this.#busy() && this.#pending >= SOFT_BYTES) this.#kick();
  }

  /**
   * Checkpoints everything now on the calling connection (`TRUNCATE`: the
   * WAL file is emptied), after any background pass. Returns false when
   * readers elsewhere kept part of the WAL in use.
   */
  async full(): Promise<boolean> {
    for (let attempt = 0; attempt < 20; attempt++) {
      await this.#idle();
      const r = this.#db.get<{ busy: number; log: number; checkpointed: number }>(
        "PRAGMA wal_checkpoint(TRUNCATE)",
      );
      if (r && r.busy === 0) {
        this.#pending = 0;
        return true;
      }
      await new Promise((res) => setTimeout(res, 10));
    }
    return false;
  }

  /** Waits while the WAL is over its hard limit. */
  async throttle(): Promise<void> {
    while (this.#worker && this.#pending >= HARD_BYTES) {
      this.#kick();
      await this.#idle();
    }
  }

  /** Stops the Worker and closes its connection. */
  async stop(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    await this.#idle();
    const closed = new Promise((resolve) => {
      worker.onmessage = resolve;
      worker.onerror = (e) => {
        e.preventDefault();
        resolve(null);
      };
    });
    Atomics.store(this.#ctl, CTL.stop, 1);
    Atomics.notify(this.#ctl, CTL.request);
    await closed;
    worker.terminate();
    this.#worker = null;
  }
}
