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
/**
 * Pages a small commit typically dirties: a 4 KiB file's create grows the
 * log by about 17 pages of 4 KiB (14 of 16 KiB): node, entry, version,
 * extent, chunk, the id, name and hash indexes, parent, volume, change feed.
 */
const PAGES_PER_COMMIT = 17;
const HARD_BYTES = 256 << 20;
/**
 * Past this much estimated log, the writer copies the log itself between
 * commits (after waiting for a background pass still running), so the log
 * stays near this size even when a loaded machine starves the Worker.
 */
const CATCH_UP_BYTES = 24 << 20;
/** Longest the writer waits for a background pass before copying itself. */
const CATCH_UP_WAIT_MS = 2000;
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

/** A Worker with no pass asked of it for this long is stopped (and restarted on demand). */
const IDLE_MS = 1000;

/** The background checkpointer of one store connection. */
export class Checkpointer {
  readonly #db: Db;
  /** True when passes run on a Worker (SQLite's own checkpoints are off). */
  #enabled = false;
  #worker: Worker | null = null;
  #ctl = new Int32Array(new SharedArrayBuffer(6 * 4));
  /** Pass last requested; a pass is running while it is not done. */
  #requested = 0;
  /** Pending bytes when the running pass was requested. */
  #atStart = 0;
  /** Bytes committed since the WAL was last fully checkpointed (estimate). */
  #pending = 0;
  #pageSize: number;
  #lastKick = 0;
  #idleTimer?: ReturnType<typeof setTimeout>;
  #stopping: Promise<void> | null = null;
  /** Estimated log size at which the writer next copies the log itself. */
  #catchUpAt = CATCH_UP_BYTES;
  /** The log file's inode at the first commit (null: unknown, no check). */
  #walIno: number | null | undefined;

  constructor(db: Db) {
    this.#db = db;
    this.#pageSize = Number(db.value("PRAGMA page_size"));
  }

  /**
   * Turns SQLite's automatic checkpoints off in favour of the Worker, which
   * starts with the first pass and stops after {@linkcode IDLE_MS} without
   * one: an idle store holds no thread, so a script that forgets to close
   * its store still exits.
   */
  // deno-lint-ignore require-await
  async start(): Promise<void> {
    if (this.#db.readOnly || this.#db.path === ":memory:") return;
    this.#db.exec("PRAGMA wal_autocheckpoint = 0");
    this.#enabled = true;
  }

  /** The Worker, started if it is not running; null when it cannot run. */
  #spawn(): Worker | null {
    if (this.#worker || !this.#enabled) return this.#worker;
    let worker: Worker;
    try {
      worker = new Worker(new URL("./checkpoint_worker.ts", import.meta.url), {
        type: "module",
      });
    } catch {
      this.#fail();
      return null;
    }
    Atomics.store(this.#ctl, CTL.stop, 0);
    worker.onmessage = (e) => {
      if (!e.data?.ok) this.#fail();
    };
    worker.onerror = (e) => {
      e.preventDefault();
      this.#fail();
    };
    worker.postMessage({ path: this.#db.path, control: this.#ctl.buffer });
    this.#worker = worker;
    this.#scheduleIdle();
    return worker;
  }

  /** Stops an idle Worker once no pass was asked for in a while. */
  #scheduleIdle(): void {
    clearTimeout(this.#idleTimer);
    const timer = setTimeout(() => {
      if (!this.#worker) return;
      if (this.#busy() || Date.now() - this.#lastKick < IDLE_MS) return this.#scheduleIdle();
      this.#halt().catch(() => {});
    }, IDLE_MS);
    Deno.unrefTimer(timer);
    this.#idleTimer = timer;
  }

  /** The Worker could not run: SQLite's own automatic checkpoints take over. */
  #fail(): void {
    clearTimeout(this.#idleTimer);
    this.#worker?.terminate();
    this.#worker = null;
    this.#enabled = false;
    // A pass that never ran counts as done.
    Atomics.store(this.#ctl, CTL.done, this.#requested);
    try {
      this.#db.exec("PRAGMA wal_autocheckpoint = 1000");
    } catch { /* closed */ }
  }

  /** Stops the Worker after the pass it runs, closing its connection. */
  #halt(): Promise<void> {
    this.#stopping ??= (async () => {
      const worker = this.#worker;
      if (!worker) return;
      clearTimeout(this.#idleTimer);
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
      if (this.#worker === worker) this.#worker = null;
    })().finally(() => this.#stopping = null);
    return this.#stopping;
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
        // A fast writer can keep a few MiB ahead of every pass, so the log
        // would grow without bound: past the catch-up length, copy it all.
        const long = log * this.#pageSize;
        if (long >= REWIND_BYTES && (this.#pending < TAIL_BYTES || long >= CATCH_UP_BYTES)) {
          this.#tail();
        }
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

  /** The inode of the file at the log's path: null when it is gone, undefined when unknowable. */
  #logIno(): number | null | undefined {
    try {
      return Deno.statSync(`${this.#db.path}-wal`).ino ?? undefined;
    } catch (e) {
      return e instanceof Deno.errors.NotFound ? null : undefined; // no permission: no check
    }
  }

  /**
   * True when the log at the store's path is no longer the one this
   * connection writes (deleted, or replaced by another process's new one):
   * a Worker opening the path now would checkpoint a different log.
   */
  #logMoved(): boolean {
    if (this.#walIno === undefined || this.#walIno === null) return false;
    const now = this.#logIno();
    return now !== undefined && now !== this.#walIno;
  }

  /** Asks the Worker for a pass unless one is running. */
  #kick(): void {
    if (!this.#enabled || this.#stopping || this.#busy()) return;
    // The log was deleted under us: only this connection can still fold it
    // into the file (it does at close), so the Worker stops for good.
    if (this.#logMoved()) return this.#fail();
    if (!this.#spawn()) return;
    this.#lastKick = Date.now();
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
    if (!this.#enabled) return;
    if (this.#walIno === undefined) this.#walIno = this.#logIno() ?? null;
    this.#pending += Math.max(0, bytes) + PAGES_PER_COMMIT * this.#pageSize;
    if (this.#pending >= this.#catchUpAt) this.#catchUp();
    else if (!this.#busy() && this.#pending >= SOFT_BYTES) this.#kick();
  }

  /**
   * The background passes fell behind (or never reach the log's end under
   * a busy writer): wait for the one running, then copy what is left on
   * this connection, so the next commit rewinds the log. Readers in other
   * processes may still hold frames; then the log rewinds later.
   */
  #catchUp(): void {
    const deadline = Date.now() + CATCH_UP_WAIT_MS;
    while (this.#worker && this.#busy() && Date.now() < deadline) {
      Atomics.wait(this.#ctl, CTL.done, Atomics.load(this.#ctl, CTL.done), 50);
    }
    if (!this.#busy()) this.#tail();
    // Frames a reader elsewhere still needs stay: try again a little later.
    this.#catchUpAt = Math.max(CATCH_UP_BYTES, this.#pending + SOFT_BYTES);
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
    while (this.#enabled && this.#pending >= HARD_BYTES) {
      this.#kick();
      await this.#idle();
    }
  }

  /** Stops the Worker and closes its connection; no pass runs after this. */
  async stop(): Promise<void> {
    await this.#halt();
    this.#enabled = false;
  }
}
