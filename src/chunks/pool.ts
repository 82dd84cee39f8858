/**
 * The chunk pool's index: content-addressed chunks, stored once per volume.
 * A chunk enters with no references; every `extents` row that points at it
 * adds one (schema triggers), and the last reference leaving deletes its
 * index row and queues its bytes for the backend to forget. Everything
 * here runs inside the caller's transaction.
 *
 * @module
 */

import type { Db } from "../db/db.ts";
import { Corrupt } from "../errors.ts";
import type { ChunkBackend, ChunkMeta } from "./api.ts";
import type { ChunkCache } from "./cache.ts";
import type { ChunkCodec, EncodedChunk } from "./codec.ts";
import { noteAllocation } from "./memory.ts";

/** True when the volume holds a chunk with this id (for `encode`'s `known`). */
export function hasChunk(db: Db, volume: number, hash: Uint8Array): boolean {
  return db.get("SELECT 1 FROM chunks WHERE volume = ? AND hash = ?", volume, hash) !== undefined;
}

/** Where a chunk goes: the connection, the backend and the volume. */
export interface PoolTarget {
  db: Db;
  backend: ChunkBackend;
  volume: number;
  /**
   * Collects the stored bytes new chunks add, for a caller that adds them
   * to `volumes.stored_bytes` itself before its transaction commits (once
   * per batch instead of once per chunk).
   */
  stored?: { bytes: number };
}

/**
 * Stores an encoded chunk unless the volume already holds one with its id.
 * Returns the chunk's row id and the stored bytes this added (0 when it was
 * already there). `refs` references are taken on it at once, for a caller
 * that adds its reference rows without a counting trigger (the KV room). An encoding that stopped at the id (`known`) is redone
 * with `reencode` if the chunk has gone meanwhile. Call inside a
 * transaction that also adds the extent referring to it, or the chunk is
 * collected as garbage.
 */
export function putChunk(
  to: PoolTarget,
  enc: EncodedChunk,
  reencode?: () => EncodedChunk,
  refs = 0,
): { id: number; added: number } {
  const { db, volume } = to;
  if (!enc.known) {
    // Most chunks are new: try the insert, and look the chunk up only when it was there.
    const put = insertChunk(to, enc, refs);
    if (put) return put;
  }
  const found = db.get<{ id: number }>(
    "SELECT id FROM chunks WHERE volume = ? AND hash = ?",
    volume,
    enc.hash,
  );
  if (found) {
    if (refs) db.run("UPDATE chunks SET refs = refs + ? WHERE id = ?", refs, found.id);
    return { id: found.id, added: 0 };
  }
  if (!reencode) throw new Corrupt("a chunk vanished between encoding and storing it");
  const put = insertChunk(to, reencode(), refs);
  if (!put) throw new Corrupt("a chunk appeared while it was being stored");
  return put;
}

/** Inserts a chunk unless the volume holds its id; null when it did. */
function insertChunk(
  to: PoolTarget,
  enc: EncodedChunk,
  refs: number,
): { id: number; added: number } | null {
  const { db, backend, volume } = to;
  const inline = enc.data.length <= backend.inlineBytes;
  const { changes, lastId } = db.run(
    `INSERT INTO chunks(volume, hash, size, stored, codec, crc, data, refs)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(volume, hash) DO NOTHING`,
    volume,
    enc.hash,
    enc.size,
    enc.data.length,
    enc.codec,
    enc.crc,
    inline ? enc.data : null,
    refs,
  );
  if (changes === 0) return null;
  // The volume's stored bytes follow in code, not by trigger: a trigger
  // costs more than the insert itself.
  if (to.stored) to.stored.bytes += enc.data.length;
  else {
    db.run(
      "UPDATE volumes SET stored_bytes = stored_bytes + ? WHERE id = ?",
      enc.data.length,
      volume,
    );
  }
  if (!inline) backend.put(lastId, enc.data);
  return { id: lastId, added: enc.data.length };
}

/** A chunk's index row with its volume, and its bytes when they are inline. */
export interface ChunkRow extends ChunkMeta {
  volume: number;
  /** Stored bytes kept in the index row (small chunks), else null. */
  data: Uint8Array | null;
}

/** The index row of chunk `id`, or undefined. */
function chunkRow(db: Db, id: number): ChunkRow | undefined {
  return db.get<ChunkRow>(
    "SELECT volume, size, codec, hash, crc, data FROM chunks WHERE id = ?",
    id,
  );
}

/** Chunk `id`'s index row and stored bytes (inline or the backend's); `Corrupt` if missing. */
export function storedChunk(
  db: Db,
  backend: ChunkBackend,
  id: number,
): { row: ChunkRow; data: Uint8Array } {
  const row = chunkRow(db, id);
  if (!row) throw new Corrupt(`chunk ${id} is missing`);
  const data = row.data ?? backend.get(id);
  if (data === null) throw new Corrupt(`chunk ${id} has no stored bytes`);
  return { row, data };
}

/** What reading a chunk needs: where it is, how to decode it, what to keep. */
export interface ChunkSource {
  db: Db;
  backend: ChunkBackend;
  codec: ChunkCodec;
  cache: ChunkCache;
  /** Also recompute the chunk id of what was read. */
  rehash: boolean;
}

/**
 * Reads and decodes one chunk, checking its checksum or seal (and, with
 * `rehash`, its id); `Corrupt` if it is missing or damaged.
 */
export function loadChunk(src: ChunkSource, id: number): Uint8Array {
  const hit = src.cache.get(id);
  if (hit) return hit;
  const { row, data } = storedChunk(src.db, src.backend, id);
  const plain = src.codec.decode(data, row, { rehash: src.rehash });
  noteAllocation(plain === data ? data.length : data.length + plain.length);
  src.cache.set(id, plain);
  return plain;
}

/**
 * Has the backend forget chunks whose last reference went (the
 * `chunk_deletes` queue), up to `limit` of them; returns how many.
 */
export function drainDeletes(db: Db, backend: ChunkBackend, limit = Infinity): number {
  // Most commits free nothing: a bare existence test costs a third of the page query.
  if (db.get("SELECT 1 AS x FROM chunk_deletes LIMIT 1") === undefined) return 0;
  let done = 0;
  while (done < limit) {
    const ids = db.all<{ id: number }>(
      "SELECT id FROM chunk_deletes ORDER BY id LIMIT ?",
      Math.min(1000, limit - done),
    ).map((r) => r.id);
    if (ids.length === 0) break;
    backend.delete(ids);
    db.run(
      "DELETE FROM chunk_deletes WHERE id IN (SELECT value FROM json_each(?))",
      JSON.stringify(ids),
    );
    done += ids.length;
  }
  return done;
}

/** Totals of a volume's chunks: how many, their bytes before and after storing, and as referenced. */
export function chunkTotals(
  db: Db,
  volume: number,
): { n: number; uniq: number; stored: number; ref: number } {
  return db.get<{ n: number; uniq: number; stored: number; ref: number }>(
    `SELECT COUNT(*) AS n, IFNULL(SUM(size), 0) AS uniq, IFNULL(SUM(stored), 0) AS stored,
     IFNULL(SUM(size * refs), 0) AS ref FROM chunks WHERE volume = ?`,
    volume,
  )!;
}
