/**
 * What one open store shares among its volumes and handles: the
 * connection, the chunk backend, the codec Workers, the chunk cache and
 * buffers, the change feed, the clock, this process's session, the disk
 * reserve, and the gate that holds other work back while an atomic batch
 * runs.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import type { ChunkBackend } from "../chunks/api.ts";
import { ChunkCache } from "../chunks/cache.ts";
import { BufferPool } from "../chunks/memory.ts";
import type { ChunkCodec } from "../chunks/codec.ts";
import { type ChunkSource, drainDeletes } from "../chunks/pool.ts";
import { SqliteChunkBackend } from "../chunks/sqlite_backend.ts";
import { CodecPool } from "../chunks/workers.ts";
import { type Clock, systemClock } from "../clock.ts";
import { Checkpointer } from "../db/checkpointer.ts";
import type { Db } from "../db/db.ts";
import { ChangeFeed } from "../feed/feed.ts";
import { DiskReserve } from "./disk.ts";
import { Session } from "./sessions.ts";
import { emulatedBackend, type Emulation, emulationFrom, OpStats } from "./stats.ts";

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
  /** Codec Workers (default: one per core but one, for the calling thread). */
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
  /** The clock expiries read (locks, sessions); default the system's. */
  clock?: Clock;
  /**
   * A slow remote to emulate in KV calls and chunk backend calls; by
   * default `TROVE_LATENCY` (µs) and `TROVE_BANDWIDTH` (bit/s).
   */
  emulate?: Emulation;
}

/** Something open in the store that must commit and close with it. */
export interface Closable {
  readonly nodeId: number;
  closeAll(): Promise<void>;
}

/** The shared state of one open store. */
export class Core {
  readonly db: Db;
  readonly backend: ChunkBackend;
  /** The emulated slow remote, or null. */
  readonly emulation: Emulation | null;
  /** Calls of the chunk backend. */
  readonly backendStats: OpStats;
  /** Operation counters per volume id, shared by every object of the volume. */
  readonly #volumeStats = new Map<number, OpStats>();
  readonly pool: CodecPool;
  readonly cache: ChunkCache;
  readonly buffers: BufferPool = new BufferPool();
  readonly checkpointer: Checkpointer;
  readonly feed: ChangeFeed;
  readonly clock: Clock;
  readonly session: Session;
  readonly disk: DiskReserve;
  readonly verifyReads: boolean;
  readonly sessionTimeoutMs: number;
  /** Bumped when a batch rolls back: in-memory views must reload. */
  epoch = 0;
  /** Open contents by node id, for handles that share writes. */
  readonly contents: Map<number, Closable> = new Map();
  /** Contents not in `contents` (isolated handles) still to close. */
  readonly isolated: Set<Closable> = new Set();
  readonly #batch = new AsyncLocalStorage<Core>();
  #gate: Promise<void> | null = null;
  closed = false;

  constructor(db: Db, options: CoreOptions = {}) {
    this.db = db;
    this.clock = options.clock ?? systemClock;
    this.emulation = emulationFrom(options.emulate);
    this.backendStats = new OpStats(this.emulation);
    this.backend = emulatedBackend(new SqliteChunkBackend(db), this.backendStats);
    this.pool = new CodecPool(options.workers);
    this.cache = new ChunkCache(options.chunkCacheBytes ?? 16 << 20);
    this.checkpointer = new Checkpointer(db);
    this.feed = new ChangeFeed(db, this.clock);
    this.session = new Session(db, this.clock);
    this.disk = new DiskReserve(db.path, options.diskReserveBytes);
    db.onCommit = (bytes) => this.checkpointer.committed(bytes);
    // A backend inside the store file forgets chunks in the commit that
    // freed them; others wait for gc.
    if (this.backend.transactional && !db.readOnly) {
      db.beforeCommit(() => drainDeletes(db, this.backend));
    }
    this.verifyReads = options.verifyReads ?? false;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 60_000;
  }

  /** The operation counters of volume (or KV store) `id`. */
  statsOf(id: number): OpStats {
    let s = this.#volumeStats.get(id);
    if (!s) this.#volumeStats.set(id, s = new OpStats(this.emulation));
    return s;
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

  /** Where chunks decoded with `codec` are read from: this store's backend and cache. */
  chunkSource(codec: ChunkCodec): ChunkSource {
    return {
      db: this.db,
      backend: this.backend,
      codec,
      cache: this.cache,
      rehash: this.verifyReads,
    };
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
        this.#rolledBack();
        throw e;
      }
      try {
        this.db.end(true);
      } catch (e) {
        this.#rolledBack();
        throw e;
      }
      return result;
    } finally {
      this.#gate = null;
      release();
    }
  }

  #rolledBack(): void {
    this.epoch++;
    this.cache.clear();
  }
}
