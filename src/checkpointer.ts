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

interface Reply {
  ok: boolean;
  log?: number;
  checkpointed?: number;
  error?: string;
}

/** The background checkpointer of one store connection. */
export class Checkpointer {
  readonly #db: Db;
  #worker: Worker | null = null;
  #waiting: ((r: Reply) => void)[] = [];
  #running: Promise<void> | null = null;
  /** Bytes committed since the WAL was last fully checkpointed (estimate). */
  #pending = 0;
  #pageSize: number;

  constructor(db: Db) {
    this.#db = db;
    this.#pageSize = Number(db.value("PRAGMA page_size"));
  }

  #call(msg: unknown): Promise<Reply> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#worker!.postMessage(msg);
    });
  }

  /** Starts the Worker; on failure SQLite's automatic checkpoints stay on. */
  async start(): Promise<void> {
    if (this.#db.readOnly || this.#db.path === ":memory:") return;
    try {
      const worker = new Worker(new URL("./checkpoint_worker.ts", import.meta.url), {
        type: "module",
      });
      worker.onmessage = (e) => this.#waiting.shift()?.(e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        this.#fail();
      };
      this.#worker = worker;
      const r = await this.#call({ op: "open", path: this.#db.path });
      if (!r.ok) throw new Error(r.error);
      this.#db.exec("PRAGMA wal_autocheckpoint = 0");
    } catch {
      this.#fail();
    }
  }

  #fail(): void {
    this.#worker?.terminate();
    this.#worker = null;
    for (const w of this.#waiting.splice(0)) w({ ok: false });
    try {
      this.#db.exec("PRAGMA wal_autocheckpoint = 1000");
    } catch { /* closed */ }
  }

  /**
   * Records a commit that stored `bytes` of content; may start a
   * checkpoint. Every commit also dirties a few metadata pages.
   */
  committed(bytes: number): void {
    if (!this.#worker) return;
    this.#pending += Math.max(0, bytes) + PAGES_PER_COMMIT * this.#pageSize;
    if (this.#pending >= SOFT_BYTES) this.#kick();
  }

  #kick(): Promise<void> {
    if (this.#running) return this.#running;
    const atStart = this.#pending;
    this.#running = this.#call({ op: "checkpoint" }).then((r) => {
      this.#running = null;
      if (!r.ok || r.log === undefined || r.checkpointed === undefined) return;
      // What was in the WAL at the start is done unless frames are left over;
      // bytes committed meanwhile are still to do.
      const left = Math.max(0, r.log - r.checkpointed) * this.#pageSize;
      this.#pending = Math.max(0, this.#pending - atStart) + left;
    });
    return this.#running;
  }

  /**
   * Checkpoints everything now on the calling connection (`TRUNCATE`: the
   * WAL file is emptied), after any background pass. Returns false when
   * readers elsewhere kept part of the WAL in use.
   */
  async full(): Promise<boolean> {
    for (let attempt = 0; attempt < 20; attempt++) {
      await this.#running;
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
    while (this.#worker && this.#pending >= HARD_BYTES) await this.#kick();
  }

  /** Stops the Worker and closes its connection. */
  async stop(): Promise<void> {
    if (!this.#worker) return;
    await this.#running;
    await this.#call({ op: "close" });
    this.#worker?.terminate();
    this.#worker = null;
  }
}
