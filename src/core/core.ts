/**
 * State one open store shares among its volumes and handles: the
 * connection, the codec Workers, the chunk cache, this process's session,
 * and the gate that holds other work back while an atomic batch runs.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { statfsSync } from "node:fs";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { ChunkCache } from "../chunks/pool.ts";
import { CodecPool } from "../chunks/workers.ts";
import { Checkpointer } from "../db/checkpointer.ts";
import type { Db } from "../db/db.ts";
import { QuotaExceeded } from "../errors.ts";

/** Tunables of an open store. */
export interface CoreOptions {
  /**
   * Re-hash every chunk read with the chunk-id hash (default false). Every
   * read already checks a CRC-32 (or, when encrypted, the AEAD tag); this
   * adds the cryptographic check `check({ verify: true })` makes.
   */
  verifyReads?: boolean;
  /** Bytes of decoded chunks kept in memory (default 16 MiB). */
  chunkCacheBytes?: number;
  /** Codec Workers (default: one per core). */
  workers?: number;
  /** A session silent for this long is presumed dead (default 60 s). */
  sessionTimeoutMs?: number;
  /**
   * Free disk space to keep untouched so deletes still work when the disk
   * fills up (default: 1% of the file system, at least 8 and at most 64
   * MiB). Needs `--allow-sys=statfs`; without it only SQLite's own
   * disk-full error applies.
   */
  diskReserveBytes?: number;
}

/** A function the store runs to release a content when it closes. */
export interface Closable {
  closeAll(): Promise<void>;
}

let lastNs = 0n;

/**
 * Chunk buffers are big and short-lived, and V8 only collects them when its
 * JS heap (tiny here) asks for it: left alone, hundreds of MiB of dead
 * buffers pile up while streaming. So the engine counts the chunk bytes it
 * allocates and, every {@linkcode GC_EVERY} bytes, collects if V8 holds
 * more than {@linkcode GC_SLACK} bytes outside its heap beyond what the
 * last collection left (live caches and pools stay; only garbage counts).
 * Measured in `bench/` (peak RSS while streaming): these bounds keep a
 * 10 GiB stream under 256 MiB; doubling them reads about a fifth faster
 * and peaks near 280 MiB.
 */
const GC_EVERY = 16 << 20;
const GC_SLACK = 24 << 20;
let collect: (() => void) | null | undefined;
let allocated = 0;
let floor = 16 << 20;

/**
 * Records `bytes` of chunk buffers allocated; may run a collection (a full
 * one: the `gc` hook reached from here ignores a request for a minor one).
 */
export function noteAllocation(bytes: number): void {
  allocated += bytes;
  if (allocated < GC_EVERY) return;
  allocated = 0;
  if (collect === undefined) {
    try {
      v8.setFlagsFromString("--expose-gc");
      collect = vm.runInNewContext("gc") as typeof collect;
    } catch {
      collect = null;
    }
  }
  if (!collect || Deno.memoryUsage().external <= floor + GC_SLACK) return;
  collect();
  floor = Deno.memoryUsage().external;
}

/** Nanoseconds since the epoch, strictly increasing within the process. */
export function nowNs(): bigint {
  const ms = performance.timeOrigin + performance.now();
  let ns = BigInt(Math.round(ms * 1000)) * 1000n;
  if (ns <= lastNs) ns = lastNs + 1n;
  lastNs = ns;
  return ns;
}

/** The shared state of one open store. */
export class Core {
  readonly db: Db;
  readonly pool: CodecPool;
  readonly cache: ChunkCache;
  readonly checkpointer: Checkpointer;
  readonly verifyReads: boolean;
  readonly sessionTimeoutMs: number;
  /** This process's row in `sessions`; null when read-only. */
  session: number | null = null;
  /** Bumped when a batch rolls back: in-memory views must reload. */
  epoch = 0;
  /** Open contents by node id, for handles that share writes. */
  readonly contents: Map<number, Closable & { nodeId: number }> = new Map();
  /** Contents not in `contents` (isolated handles) still to close. */
  readonly isolated: Set<Closable & { nodeId: number }> = new Set();
  readonly #batch = new AsyncLocalStorage<Core>();
  readonly #reserve?: number;
  #statfs = true;
  #diskBudget = 0;
  #diskChecked = 0;
  readonly #buffers = new Map<number, Uint8Array[]>();
  #bufferBytes = 0;
  #gate: Promise<void> | null = null;
  #heartbeat?: ReturnType<typeof setInterval>;
  closed = false;

  constructor(db: Db, options: CoreOptions = {}) {
    this.db = db;
    this.pool = new CodecPool(options.workers);
    this.cache = new ChunkCache(options.chunkCacheBytes ?? 16 << 20);
    this.checkpointer = new Checkpointer(db);
    db.onCommit = (bytes) => this.checkpointer.committed(bytes);
    this.verifyReads = options.verifyReads ?? false;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 60_000;
    this.#reserve = options.diskReserveBytes;
  }

  /** A chunk-sized buffer from the pool (its contents are garbage). */
  takeBuffer(size: number): Uint8Array {
    const buf = this.#buffers.get(size)?.pop();
    if (!buf) return new Uint8Array(size);
    this.#bufferBytes -= size;
    return buf;
  }

  /** Returns a buffer to the pool, which keeps at most 16 MiB. */
  giveBuffer(buf: Uint8Array): void {
    const size = buf.byteLength;
    if (buf.byteOffset !== 0 || size !== buf.buffer.byteLength) return;
    if (this.#bufferBytes + size > 16 << 20) return;
    let list = this.#buffers.get(size);
    if (!list) this.#buffers.set(size, list = []);
    list.push(buf);
    this.#bufferBytes += size;
  }

  /**
   * Refuses, with `QuotaExceeded`, a transaction adding `bytes` of content
   * when that would leave less than the disk reserve free. After a check it
   * lets an eighth of the remaining slack (or two seconds) pass unchecked,
   * so small writes do not pay two system calls each.
   */
  checkDisk(bytes: number): void {
    if (!this.#statfs || bytes <= 0 || this.db.path === ":memory:") return;
    if (bytes < this.#diskBudget && Date.now() - this.#diskChecked < 2000) {
      this.#diskBudget -= bytes;
      return;
    }
    let free: number;
    let total: number;
    try {
      const path = this.db.path;
      const s = statfsSync(path.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : ".");
      free = s.bavail * s.bsize;
      total = s.blocks * s.bsize;
    } catch {
      this.#statfs = false; // no permission or no support: rely on SQLITE_FULL
      return;
    }
    const reserve = this.#reserve ?? Math.min(64 << 20, Math.max(8 << 20, total / 100));
    // New bytes go to the WAL first and to the main file at the checkpoint,
    // which also needs room for whatever the WAL holds already.
    let wal = 0;
    try {
      wal = Deno.statSync(this.db.path + "-wal").size;
    } catch { /* no WAL yet */ }
    const slack = free - wal - reserve - 2 * bytes;
    if (slack < 0) {
      this.#diskBudget = 0;
      throw new QuotaExceeded(
        `the disk holding the store is full (${free} bytes free, ${reserve} kept in reserve for deletes)`,
      );
    }
    this.#diskBudget = Math.min(256 << 20, slack / 8);
    this.#diskChecked = Date.now();
  }

  /** Ids of every node this process has open. */
  openNodes(): Set<number> {
    const ids = new Set(this.contents.keys());
    for (const c of this.isolated) ids.add(c.nodeId);
    return ids;
  }

  get readOnly(): boolean {
    return this.db.readOnly;
  }

  /** True when the caller runs inside this store's open batch. */
  get inBatch(): boolean {
    return this.#batch.getStore() === this;
  }

  /** Waits while another context's batch holds the store. */
  async enter(): Promise<void> {
    while (this.#gate && !this.inBatch) await this.#gate;
  }

  /** Runs `fn` as one transaction spanning its awaits. */
  async batch<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.inBatch) return await fn();
    await this.enter();
    let release!: () => void;
    this.#gate = new Promise((r) => release = r);
    try {
      this.db.begin();
      let result: T;
      try {
        result = await this.#batch.run(this, fn);
      } catch (e) {
        this.db.end(false);
        this.epoch++;
        this.cache.clear();
        throw e;
      }
      try {
        this.db.end(true);
      } catch (e) {
        this.epoch++;
        this.cache.clear();
        throw e;
      }
      return result;
    } finally {
      this.#gate = null;
      release();
    }
  }

  /** Registers this process's session and starts its heartbeat. */
  startSession(): void {
    if (this.readOnly) return;
    const now = Date.now();
    this.session = this.db.tx(() =>
      this.db.run(
        "INSERT INTO sessions(pid, started, heartbeat) VALUES (?, ?, ?)",
        Deno.pid,
        now,
        now,
      ).lastId
    );
    const beat = Math.max(1000, Math.min(15_000, this.sessionTimeoutMs / 4));
    const timer = setInterval(() => this.#beat(), beat);
    Deno.unrefTimer(timer);
    this.#heartbeat = timer;
  }

  #beat(): void {
    if (this.closed || this.db.inTransaction || this.session === null) return;
    try {
      this.db.tx(() =>
        this.db.run("UPDATE sessions SET heartbeat = ? WHERE id = ?", Date.now(), this.session)
      );
    } catch { /* busy: the next beat tries again */ }
  }

  /** Ends the session: stops the heartbeat and deletes its rows. */
  endSession(): void {
    clearInterval(this.#heartbeat);
    if (this.session === null) return;
    const id = this.session;
    this.session = null;
    this.db.tx(() => {
      this.db.run("DELETE FROM opens WHERE session = ?", id);
      this.db.run("DELETE FROM sessions WHERE id = ?", id);
    });
  }
}
