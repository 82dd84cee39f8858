/**
 * The KV room's rows as one store object sees them: keys as stored (plain
 * bytes, or keyed ids with sealed names when encrypted), item rows,
 * values' chunks in and out of the pool, and ranges over them.
 *
 * @module
 */

import type { EncodedChunk } from "../chunks/codec.ts";
import { type ChunkSource, hasChunk, putChunk } from "../chunks/pool.ts";
import type { Core } from "../core/core.ts";
import { InvalidArgument, NotFound } from "../errors.ts";
import { type ParsedKey, parseKey } from "./keys.ts";
import { STAGING_NS } from "./room.ts";
import type { KvItemInfo, KvParts, KvRange } from "./kv.ts";

/** A `kv_items` row. */
export interface ItemRow {
  key: Uint8Array;
  name: Uint8Array | null;
  size: number;
  chunk_size: number;
  created: number;
  modified: number;
  deleted: number | null;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
/** Owners the sealed-name codec binds keys and namespaces to. */
const ROOT_OWNER = 0;
const NS_OWNER = 1;

/** The rows of one KV store. */
export class KvItems {
  readonly p: KvParts;

  constructor(parts: KvParts) {
    this.p = parts;
  }

  get db(): Core["db"] {
    return this.p.core.db;
  }

  get encrypted(): boolean {
    return this.p.codec.sealed;
  }

  keyId(k: ParsedKey): Uint8Array {
    return this.encrypted ? this.p.meta.entryKey(ROOT_OWNER, k.key) : enc.encode(k.key);
  }

  nsId(ns: string): Uint8Array {
    return this.encrypted ? this.p.meta.entryKey(NS_OWNER, ns) : enc.encode(ns);
  }

  sealed(k: ParsedKey, id: Uint8Array): Uint8Array | null {
    return this.encrypted ? this.p.meta.sealName(ROOT_OWNER, id, k.key) : null;
  }

  keyOf(r: ItemRow): string {
    return this.encrypted ? this.p.meta.openName(ROOT_OWNER, r.key, r.name) : dec.decode(r.key);
  }

  /** The public view of a row; `ns` when the caller knows the namespace (a listing). */
  info(r: ItemRow, key: string = this.keyOf(r), ns?: string): KvItemInfo {
    const { namespace, name } = ns === undefined
      ? parseKey(key)
      : { namespace: ns, name: ns === "" ? key : key.slice(ns.length + 1) };
    return {
      key,
      namespace,
      name,
      size: r.size,
      created: new Date(r.created),
      modified: new Date(r.modified),
      deleted: r.deleted !== null,
      deletedAt: r.deleted === null ? null : new Date(r.deleted),
    };
  }

  row(id: Uint8Array): ItemRow | undefined {
    return this.db.get<ItemRow>(
      "SELECT key, name, size, chunk_size, created, modified, deleted FROM kv_items WHERE store = ? AND key = ?",
      this.p.id,
      id,
    );
  }

  live(k: ParsedKey): ItemRow {
    const r = this.row(this.keyId(k));
    if (!r || r.deleted !== null) throw new NotFound("no such key", k.key);
    return r;
  }

  encode(plain: Uint8Array): EncodedChunk {
    return this.p.codec.encode(plain, (h) => hasChunk(this.db, this.p.id, h));
  }

  /** Stores encoded chunks as extents `from…` of item `key` (inside a transaction). */
  putChunks(key: Uint8Array, from: number, chunks: [EncodedChunk, Uint8Array][]): void {
    const { core, id } = this.p;
    const target = { db: core.db, backend: core.backend, volume: id, stored: this.stored };
    let added = 0;
    chunks.forEach(([e, plain], i) => {
      const put = putChunk(target, e, () => this.p.codec.encode(plain), 1);
      added += put.added;
      core.db.run(
        "INSERT INTO kv_extents(store, key, idx, chunk) VALUES (?, ?, ?, ?)",
        id,
        key,
        from + i,
        put.id,
      );
    });
    core.disk.check(added);
    if (!this.batched) this.flushStored();
  }

  /** Stored bytes of new chunks not yet added to the volume row (see `PoolTarget.stored`). */
  readonly stored = { bytes: 0 };
  /** True while a batch of this store collects stored bytes until it ends. */
  batched = false;

  /** Adds the collected stored bytes to the volume row (inside the transaction). */
  flushStored(): void {
    if (this.stored.bytes === 0) return;
    this.db.run(
      "UPDATE volumes SET stored_bytes = stored_bytes + ? WHERE id = ?",
      this.stored.bytes,
      this.p.id,
    );
    this.stored.bytes = 0;
  }

  /** Makes `k` an item of the chunks `body` enters (an overwrite keeps its creation time). */
  install(k: ParsedKey, size: number, body: (id: Uint8Array) => void): void {
    const { db } = this.p.core;
    const store = this.p.id;
    const id = this.keyId(k);
    const now = this.p.core.clock.now();
    const fresh = db.run(
      `INSERT INTO kv_items(store, key, ns, name, size, chunk_size, created, modified, deleted)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL) ON CONFLICT(store, key) DO NOTHING`,
      store,
      id,
      this.nsId(k.namespace),
      this.sealed(k, id),
      size,
      this.p.chunkSize,
      now,
      now,
    ).changes === 1;
    if (!fresh) {
      dropExtents(db, store, id);
      db.run(
        `UPDATE kv_items SET size = ?, chunk_size = ?, modified = ?, deleted = NULL
         WHERE store = ? AND key = ?`,
        size,
        this.p.chunkSize,
        now,
        store,
        id,
      );
    }
    body(id);
  }

  source(): ChunkSource {
    return this.p.core.chunkSource(this.p.codec);
  }

  range(r: ItemRow, range: KvRange, key: string): { offset: number; end: number } {
    const offset = range.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new InvalidArgument(`invalid offset ${range.offset}`, key);
    }
    if (offset > r.size) {
      throw new InvalidArgument(`offset ${offset} is past the end (${r.size} bytes)`, key);
    }
    const length = range.length ?? r.size - offset;
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new InvalidArgument(`invalid length ${range.length}`, key);
    }
    if (offset + length > r.size) {
      throw new InvalidArgument(
        `${offset}+${length} is past the end of the value (${r.size} bytes)`,
        key,
      );
    }
    return { offset, end: offset + length };
  }

  /** Chunk ids of item `id` covering [offset, end). */
  chunkIds(id: Uint8Array, cs: number, offset: number, end: number): number[] {
    if (end <= offset) return [];
    return this.db.all<{ chunk: number }>(
      "SELECT chunk FROM kv_extents WHERE store = ? AND key = ? AND idx BETWEEN ? AND ? ORDER BY idx",
      this.p.id,
      id,
      Math.floor(offset / cs),
      Math.floor((end - 1) / cs),
    ).map((r) => r.chunk);
  }
}

/** Drops the extents of item `key` with the references they hold (inside a transaction). */
function dropExtents(db: Core["db"], store: number, key: Uint8Array): void {
  // One value may use a chunk more than once: drop as many references.
  db.run(
    `UPDATE chunks SET refs = refs - (SELECT COUNT(*) FROM kv_extents e
       WHERE e.store = ?1 AND e.key = ?2 AND e.chunk = chunks.id)
     WHERE id IN (SELECT chunk FROM kv_extents WHERE store = ?1 AND key = ?2)`,
    store,
    key,
  );
  db.run("DELETE FROM kv_extents WHERE store = ? AND key = ?", store, key);
}

/** Deletes item `key` and its extents (inside a transaction). */
export function dropItem(db: Core["db"], store: number, key: Uint8Array): void {
  dropExtents(db, store, key);
  db.run("DELETE FROM kv_items WHERE store = ? AND key = ?", store, key);
}

/** Staged values left by a crash or a killed writer, idle for `idleMs`: dropped by gc. */
export function reapStaging(db: Core["db"], now: number, idleMs: number): number {
  const rows = db.all<{ store: number; key: Uint8Array }>(
    "SELECT store, key FROM kv_items WHERE ns = ? AND modified < ?",
    STAGING_NS,
    now - idleMs,
  );
  for (const r of rows) dropItem(db, r.store, r.key);
  return rows.length;
}
