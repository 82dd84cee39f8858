/**
 * Moves WAL checkpoints off the writer's thread. The writer's connection
 * turns automatic checkpoints off; after every {@linkcode SOFT_BYTES} of
 * committed content a Worker checkpoints in the background, and writers
 * wait only when the WAL holds more than {@linkcode HARD_BYTES}. Without a
 * Worker (it failed to start), SQLite's own automatic checkpoints apply.
 *
 * @module
 */

import type { Db } from "./db.ts";

const SOFT_BYTES = 32 << 20;
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

  /** Records content bytes just committed; may start a checkpoint. */
  committed(bytes: number): void {
    if (!this.#worker) return;
    this.#pending += bytes;
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
