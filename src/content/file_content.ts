/**
 * File content, copy-on-write. A {@linkcode FileContent} is the in-memory
 * state of one open file in this process: the committed version it builds
 * on, and the chunk slots written since. Full slots are encoded on the
 * codec Workers as soon as they fill; when too many bytes are buffered,
 * encoded chunks are staged into a pending version (invisible to readers,
 * owned by this process's session); `commit` swaps the new version in with
 * one transaction. A crash at any point leaves the file at its last
 * committed version; the pending version is reaped with the dead session.
 *
 * @module
 */

import type { ChunkCodec } from "../chunks/codec.ts";
import { type ChunkSource, loadChunk, type PoolTarget, putChunk } from "../chunks/pool.ts";
import { nowNs } from "../clock.ts";
import { Busy, InvalidArgument, NotFound, NotSupported } from "../errors.ts";
import type { Tree } from "../tree/tree.ts";
import { MAX_FILE_SIZE, tooLarge } from "./limits.ts";
import { Mutex } from "./mutex.ts";
import { type Slot, Slots } from "./slots.ts";
import { fetchChunks, READ_AHEAD } from "./read_ahead.ts";
import { checkQuota, createPending, dropVersion, installVersion } from "./versions.ts";

/** Encoded chunks worth one staging transaction. */
const STAGE_BATCH = 8 << 20;
/** Most bytes of chunk slots one file buffers before writes wait. */
const MAX_BUFFERED = 24 << 20;
/** The in-memory state of one open file. */
export class FileContent {
  readonly tree: Tree;
  readonly codec: ChunkCodec;
  readonly nodeId: number;
  /** True when this content is shared by all handles of the node. */
  readonly shared: boolean;
  /** Open handles on this content. */
  handles = 0;
  readonly #cs: number;
  readonly #lock = new Mutex();
  #epoch: number;
  #registered = false;
  #baseVersion: number | null = null;
  #size = 0;
  /** Slots at or past this index are not taken from the base (truncated). */
  #cut = Infinity;
  readonly #slots: Slots;
  #staged = new Map<number, number>();
  #pending: number | null = null;
  #changed = false;
  /** Data was written since the last commit (not only a truncation). */
  #wrote = false;
  #mtime: bigint | null = null;
  #released = false;
  /** Where the last read ended, to spot sequential reads. */
  #lastEnd = -1;
  /** The last slot read-ahead has looked up. */
  #aheadUntil = -1;

  /** True when reads stay on the version current at open. */
  readonly #snapshot: boolean;
  /** Where this file's chunks are read from and written to. */
  readonly #source: ChunkSource;
  readonly #target: PoolTarget;

  /**
   * The content of node `node`: `shared` by every handle of the node in this
   * process, `isolated` to one handle until it commits, or a read-only
   * `snapshot` of the version current now.
   */
  constructor(
    tree: Tree,
    options: { codec: ChunkCodec; node: number; mode: "shared" | "isolated" | "snapshot" },
  ) {
    this.tree = tree;
    this.codec = options.codec;
    this.nodeId = options.node;
    this.shared = options.mode === "shared";
    this.#snapshot = options.mode === "snapshot";
    this.#source = tree.core.chunkSource(options.codec);
    this.#target = { db: tree.db, backend: tree.core.backend, volume: tree.vol.id };
    this.#slots = new Slots(tree.core, options.codec, `#${options.node}`);
    this.#cs = tree.vol.chunkSize;
    this.#epoch = tree.core.epoch;
    this.#loadBase();
  }

  #loadBase(): void {
    const r = this.tree.db.get<{ version: number | null; size: number; cs: number | null }>(
      `SELECT n.version, n.size, v.chunk_size AS cs FROM nodes n
       LEFT JOIN versions v ON v.id = n.version WHERE n.id = ?`,
      this.nodeId,
    );
    if (!r) throw new NotFound("file was removed", `#${this.nodeId}`);
    if (r.cs !== null && r.cs !== this.#cs) {
      throw new NotSupported(`version with chunk size ${r.cs} in a ${this.#cs} volume`);
    }
    this.#baseVersion = r.version;
    this.#size = r.size;
    this.#cut = Infinity;
    this.#aheadUntil = -1;
  }

  /** True when nothing uncommitted is held. */
  get #clean(): boolean {
    return !this.#changed && this.#pending === null && this.#slots.size === 0;
  }

  /** Follows commits made elsewhere while this content holds nothing. */
  #refresh(): void {
    if (this.tree.core.epoch !== this.#epoch) {
      this.#epoch = this.tree.core.epoch;
      this.#reset();
    }
    if (!this.#clean || this.#snapshot) return;
    const r = this.tree.db.get<{ version: number | null; size: number }>(
      "SELECT version, size FROM nodes WHERE id = ?",
      this.nodeId,
    );
    if (!r) throw new NotFound("file was removed", `#${this.nodeId}`);
    if (r.version !== this.#baseVersion || r.size !== this.#size) this.#loadBase();
  }

  /** True while the version this content builds on still exists. */
  #baseExists(): boolean {
    return this.#baseVersion === null ||
      this.tree.db.get("SELECT 1 FROM versions WHERE id = ?", this.#baseVersion) !== undefined;
  }

  /**
   * The base version was pruned by commits elsewhere: reload when nothing
   * is uncommitted, else refuse rather than merge against missing data.
   */
  #baseLost(): never | void {
    if (this.#snapshot) {
      throw new Busy("the version being read was pruned by newer commits", `#${this.nodeId}`);
    }
    if (this.#clean) return this.#loadBase();
    throw new Busy(
      "the file was rewritten elsewhere while this handle had uncommitted writes",
      `#${this.nodeId}`,
    );
  }

  /** Forgets every uncommitted change (the pending rows are gone or dropped). */
  #reset(): void {
    this.#slots.clear();
    this.#staged.clear();
    this.#pending = null;
    this.#changed = false;
    this.#wrote = false;
    this.#mtime = null;
    this.#loadBase();
  }

  /** Current logical size, uncommitted writes included. */
  get size(): number {
    return this.#size;
  }

  /** The modification time uncommitted writes will commit with, if any. */
  get pendingMtime(): bigint | null {
    return this.#changed ? this.#mtime : null;
  }

  /** True while there are uncommitted changes. */
  get dirty(): boolean {
    return this.#changed;
  }

  /**
   * Records this content in `opens` so an unlink keeps the node; with
   * `marked`, the caller's committed transaction did (a create that opens).
   */
  register(marked = false): void {
    const session = this.tree.core.session;
    if (this.#registered || session.id === null) return;
    // A close deferred to the next commit left the mark standing.
    if (!marked && !session.reopen(this.nodeId)) {
      this.tree.db.tx(() => session.markOpen(this.nodeId));
    }
    this.#registered = true;
  }

  // ---- reading ----------------------------------------------------------

  #baseChunk(idx: number): number | undefined {
    const staged = this.#staged.get(idx);
    if (staged !== undefined) return staged;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (this.#baseVersion === null || idx >= this.#cut) return undefined;
      const chunk = this.tree.db.get<{ chunk: number }>(
        "SELECT chunk FROM extents WHERE version = ? AND idx = ?",
        this.#baseVersion,
        idx,
      )?.chunk;
      if (chunk !== undefined || this.#baseExists()) return chunk;
      this.#baseLost();
    }
    return undefined;
  }

  #load(chunk: number): Uint8Array {
    return loadChunk(this.#source, chunk);
  }

  /**
   * Reads up to `length` bytes at `offset`; fewer at end of file. One read
   * sees one committed state, even while other processes commit.
   */
  read(offset: number, length: number): Promise<Uint8Array> {
    return this.#lock.run(async () => {
      await this.#slots.settle(offset, offset + length, this.#cs);
      const streaming = await this.#readAhead(offset, offset + length);
      return this.tree.db.read(() => {
        this.#refresh();
        const n = Math.max(0, Math.min(length, this.#size - offset));
        const out = new Uint8Array(n);
        this.#readNow(offset, out, streaming);
        return out;
      });
    });
  }

  /** Reads into `target` at `offset`; resolves to the bytes read (0 at end). */
  readInto(offset: number, target: Uint8Array): Promise<number> {
    return this.#lock.run(async () => {
      await this.#slots.settle(offset, offset + target.length, this.#cs);
      const streaming = await this.#readAhead(offset, offset + target.length);
      return this.tree.db.read(() => {
        this.#refresh();
        return this.#readNow(offset, target, streaming);
      });
    });
  }

  /**
   * For sequential reads, has the codec Workers load and decode the next
   * chunks (see `read_ahead.ts`), then waits for those this read needs.
   * Resolves to true when this read follows the last one.
   */
  async #readAhead(from: number, to: number): Promise<boolean> {
    const sequential = from === this.#lastEnd;
    this.#lastEnd = to;
    const end = Math.min(to, this.#size);
    if (from >= end) return sequential;
    const core = this.tree.core;
    const cs = this.#cs;
    const first = Math.floor(from / cs);
    const last = Math.floor((end - 1) / cs);
    const lastAhead = sequential ? Math.min(last + READ_AHEAD, Math.ceil(this.#size / cs) - 1) : -1;
    // Chunks already scheduled by earlier reads need no second look-up.
    const from2 = sequential ? Math.max(last + 1, this.#aheadUntil + 1) : last + 1;
    const ids = this.tree.db.read(() => {
      const ids = new Map<number, number>();
      for (let idx = first; idx <= Math.max(last, lastAhead); idx++) {
        if (idx > last && idx < from2) continue;
        if (this.#slots.has(idx)) continue;
        const id = this.#baseChunk(idx);
        if (id !== undefined) ids.set(idx, id);
      }
      return ids;
    });
    this.#aheadUntil = sequential ? Math.max(this.#aheadUntil, lastAhead) : last;
    await fetchChunks({ core, codec: this.codec, source: this.#source }, { ids, first, last });
    return sequential;
  }

  /** Copies what is at `offset` into `target`; a `streaming` read drops each chunk it finishes. */
  #readNow(offset: number, target: Uint8Array, streaming: boolean): number {
    const end = Math.min(offset + target.length, this.#size);
    if (offset >= end) return 0;
    target.fill(0, 0, end - offset);
    const cs = this.#cs;
    for (let idx = Math.floor(offset / cs); idx * cs < end; idx++) {
      const start = idx * cs;
      const from = Math.max(offset, start) - start;
      const to = Math.min(end, start + cs) - start;
      let data: Uint8Array | null | undefined;
      let len = 0;
      const slot = this.#slots.get(idx);
      if (slot) {
        data = slot.buf;
        len = slot.len;
      } else {
        const chunk = this.#baseChunk(idx);
        if (chunk !== undefined) {
          data = this.#load(chunk);
          len = data.length;
          // A stream is past it: dropping it now lets it die young (a cheap
          // collection frees it) instead of aging in the cache.
          if (streaming && to >= len) this.tree.core.cache.forget(chunk);
        }
      }
      if (data && from < len) {
        target.set(data.subarray(from, Math.min(to, len)), start + from - offset);
      }
    }
    return end - offset;
  }

  // ---- writing ----------------------------------------------------------

  async #slotForWrite(idx: number, from: number, to: number): Promise<Slot> {
    const existing = this.#slots.get(idx);
    if (existing) {
      await this.#slots.idle(existing);
      return existing;
    }
    const cs = this.#cs;
    const oldEnd = Math.max(0, Math.min(cs, this.#size - idx * cs));
    // The base chunk is read before the slot exists, so a failure leaves no empty slot.
    let plain: Uint8Array | null = null;
    if (oldEnd > 0 && !(from === 0 && to >= oldEnd)) {
      const chunk = this.tree.db.read(() => this.#baseChunk(idx));
      if (chunk !== undefined) plain = this.#load(chunk);
    }
    const slot = this.#slots.add(idx, cs);
    if (plain) {
      slot.buf!.set(plain);
      slot.len = plain.length;
    }
    return slot;
  }

  /** Writes `data` at `offset`, growing the file as needed. */
  write(offset: number, data: Uint8Array): Promise<number> {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      return Promise.reject(new InvalidArgument(`invalid offset ${offset}`));
    }
    if (offset + data.length > MAX_FILE_SIZE) {
      return Promise.reject(tooLarge(offset + data.length));
    }
    return this.#lock.run(async () => {
      this.#refresh();
      this.#slots.checkFailure();
      if (data.length === 0) return 0;
      const cs = this.#cs;
      const end = offset + data.length;
      for (let idx = Math.floor(offset / cs); idx * cs < end; idx++) {
        const start = idx * cs;
        const from = Math.max(offset, start) - start;
        const to = Math.min(end, start + cs) - start;
        const slot = await this.#slotForWrite(idx, from, to);
        const buf = slot.buf!;
        if (from > slot.len) buf.fill(0, slot.len, from);
        buf.set(data.subarray(start + from - offset, start + to - offset), from);
        if (to > slot.len) slot.len = to;
        slot.enc = null;
        if (slot.len === cs && to === cs) this.#slots.seal(slot);
      }
      if (end > this.#size) this.#size = end;
      this.#changed = true;
      this.#wrote = true;
      this.#mtime = nowNs();
      await this.#pump();
      return data.length;
    });
  }

  /**
   * Keeps memory bounded: stages encoded chunks in batches, and when too
   * much is buffered waits for Workers (or encodes what random writes
   * left behind) before the next write goes on.
   */
  async #pump(): Promise<void> {
    const cs = this.#cs;
    while (true) {
      const ready = this.#slots.ready();
      const over = this.#slots.size * cs > MAX_BUFFERED;
      if (ready.bytes >= STAGE_BATCH || (over && ready.slots.length > 0)) {
        await this.tree.core.checkpointer.throttle();
        this.#stage(ready.slots.filter(([idx, s]) => this.#slots.get(idx) === s && s.enc));
        continue;
      }
      if (!over) return;
      const busy = this.#slots.busy();
      if (busy) await this.#slots.idle(busy);
      else await this.#slots.sealAll();
    }
  }

  /** Sets the size: cuts the data past it, or extends with zeros. */
  truncate(size: number): Promise<void> {
    if (!Number.isSafeInteger(size) || size < 0) {
      return Promise.reject(new InvalidArgument(`invalid size ${size}`));
    }
    if (size > MAX_FILE_SIZE) return Promise.reject(tooLarge(size));
    return this.#lock.run(async () => {
      this.#refresh();
      this.#slots.checkFailure();
      const cs = this.#cs;
      if (size < this.#size) {
        const cutIdx = Math.ceil(size / cs);
        for (const [idx, s] of this.#slots.entries()) {
          if (idx < cutIdx) continue;
          await this.#slots.idle(s);
          this.#slots.drop(idx, s);
        }
        let unstage = false;
        for (const idx of this.#staged.keys()) {
          if (idx >= cutIdx) {
            this.#staged.delete(idx);
            unstage = true;
          }
        }
        if (unstage && this.#pending !== null) {
          const pending = this.#pending;
          this.tree.db.tx(() =>
            this.tree.db.run(
              "DELETE FROM extents WHERE version = ? AND idx >= ?",
              pending,
              cutIdx,
            )
          );
        }
        if (size % cs !== 0) {
          const idx = Math.floor(size / cs);
          const slot = await this.#slotForWrite(idx, 0, 0);
          slot.len = Math.min(slot.len, size - idx * cs);
          slot.enc = null;
        }
        this.#cut = Math.min(this.#cut, cutIdx);
      }
      if (size !== this.#size || (size === 0 && this.#baseVersion === null)) {
        this.#changed = true;
      }
      this.#size = size;
      this.#mtime = nowNs();
    });
  }

  /** True when data was written since the last commit, not only a truncation. */
  get wrote(): boolean {
    return this.#wrote;
  }

  /** Sets the modification time the next commit records. */
  setMtime(mtime: bigint): void {
    if (this.#changed) this.#mtime = mtime;
  }

  /** Puts a slot's chunk and points `vid`'s extent `idx` at it. */
  #putSlot(vid: number, idx: number, slot: Slot): { id: number; added: number } {
    const put = putChunk(this.#target, slot.enc!, () => this.#slots.reencode(slot));
    this.tree.db.run(
      `INSERT INTO extents(version, idx, chunk) VALUES (?, ?, ?)
       ON CONFLICT(version, idx) DO UPDATE SET chunk = excluded.chunk`,
      vid,
      idx,
      put.id,
    );
    return put;
  }

  /** Writes encoded slots into the pending version and frees their memory. */
  #stage(ready: [number, Slot][]): void {
    const tree = this.tree;
    const { pending, ids } = tree.db.tx(() => {
      const pending = this.#pending ?? createPending(tree, this.nodeId);
      let added = 0;
      const ids = ready.map(([idx, s]) => {
        const put = this.#putSlot(pending, idx, s);
        added += put.added;
        return put.id;
      });
      checkQuota(tree, added);
      tree.core.session.markOpen(this.nodeId);
      return { pending, ids };
    });
    this.#pending = pending;
    this.#registered = tree.core.session.id !== null;
    // Only once committed: a rolled-back stage leaves the slots in memory.
    ready.forEach(([idx, s], i) => {
      this.#staged.set(idx, ids[i]);
      this.#slots.drop(idx, s);
    });
  }

  /**
   * Commits uncommitted changes as a new version in one transaction. With
   * `durable`, the commit is synced to disk before returning; `inTx` runs
   * inside the same transaction (to link a new file, say). Returns the new
   * version's number, or null when there was nothing to commit.
   */
  commit(durable = false, inTx?: () => void): Promise<number | null> {
    return this.#lock.run(async () => {
      this.#refresh();
      if (!this.#changed) return null;
      await this.#slots.sealAll();
      await this.tree.core.checkpointer.throttle();
      const slots = this.#slots.entries();
      const db = this.tree.db;
      const size = this.#size;
      const nslots = Math.ceil(size / this.#cs);
      durable &&= !db.inTransaction;
      if (durable) db.exec("PRAGMA synchronous = FULL");
      let result: { vid: number; seq: number };
      try {
        result = db.tx(() => {
          // The base matters only if the new version keeps some of its chunks.
          if (this.#cut > 0 && !this.#baseExists()) this.#baseLost();
          return installVersion(this.tree, {
            node: this.nodeId,
            size,
            mtime: this.#mtime ?? nowNs(),
            pending: this.#pending,
            fill: (vid) => this.#fill(vid, slots, nslots),
            then: inTx,
          });
        });
      } finally {
        if (durable) db.exec("PRAGMA synchronous = NORMAL");
      }
      for (const [idx, s] of slots) this.#slots.drop(idx, s);
      this.#staged.clear();
      this.#pending = null;
      this.#changed = false;
      this.#wrote = false;
      this.#mtime = null;
      this.#baseVersion = result.vid;
      this.#cut = Infinity;
      return result.seq;
    });
  }

  /**
   * The new version's extents: the slots written since the base (their
   * chunks put now), the staged ones, and the base's chunks for the rest,
   * nothing past the end. Returns the stored bytes added.
   */
  #fill(vid: number, slots: [number, Slot][], nslots: number): number {
    const db = this.tree.db;
    let added = 0;
    for (const [idx, s] of slots) if (idx < nslots) added += this.#putSlot(vid, idx, s).added;
    db.run("DELETE FROM extents WHERE version = ? AND idx >= ?", vid, nslots);
    if (this.#baseVersion !== null) {
      db.run(
        `INSERT OR IGNORE INTO extents(version, idx, chunk)
         SELECT ?, idx, chunk FROM extents WHERE version = ? AND idx < ?`,
        vid,
        this.#baseVersion,
        Math.min(this.#cut, nslots),
      );
    }
    return added;
  }

  /** Drops uncommitted changes, deleting the pending version if any. */
  discard(): Promise<void> {
    return this.#lock.run(() => this.#discardNow());
  }

  #discardNow(): void {
    const pending = this.#pending;
    if (pending !== null) {
      try {
        this.tree.db.tx(() => dropVersion(this.tree, pending));
      } catch { /* left for the session reaper */ }
    }
    this.#reset();
  }

  /**
   * Called when the last handle closes: drops anything uncommitted, removes
   * the `opens` row, and deletes the node if it was unlinked meanwhile.
   */
  release(): Promise<void> {
    return this.#lock.run(() => {
      if (this.#released) return;
      this.#released = true;
      const core = this.tree.core;
      if (this.shared && core.contents.get(this.nodeId) === this) {
        core.contents.delete(this.nodeId);
      }
      core.isolated.delete(this);
      if (core.readOnly || core.closed && core.session.id === null) return;
      if (this.#pending !== null) this.#discardNow();
      if (!this.#registered) return;
      const { entries } = this.tree;
      core.session.release(this.nodeId, () => entries.dropIfUnused(this.nodeId));
    });
  }

  /** Commits and releases; used when the store closes under open handles. */
  async closeAll(): Promise<void> {
    try {
      await this.commit();
    } finally {
      await this.release();
    }
  }
}
