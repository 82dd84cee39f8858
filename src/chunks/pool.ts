/**
 * The chunk pool: content-addressed chunks, stored once per volume. Chunks
 * enter with no references; every `extents` row that points at one adds a
 * reference (schema triggers), and the last reference leaving deletes it.
 *
 * @module
 */

import type { ChunkCodec, EncodedChunk } from "./codec.ts";
import type { Db } from "../db/db.ts";
import { noteAllocation } from "../core/core.ts";
import { Corrupt } from "../errors.ts";

/**
 * Stored chunks up to this size live in their `chunks` row; bigger ones in
 * `chunk_data`, so reference-count updates never rewrite a big blob. One
 * less table touched per small file (measured: 8 → 7 WAL pages a create).
 */
export const INLINE_CHUNK_BYTES = 4096;

/** True when the volume holds a chunk with this id (for `encode`'s `known`). */
export function hasChunk(db: Db, volume: number, hash: Uint8Array): boolean {
  return db.get("SELECT 1 FROM chunks WHERE volume = ? AND hash = ?", volume, hash) !== undefined;
}

/**
 * Stores an encoded chunk unless the volume already holds one with its id.
 * Returns the chunk's row id and the stored bytes this added (0 when it was
 * already there). An encoding that stopped at the id (`known`) is redone
 * with `reencode` if the chunk has gone meanwhile. Call inside a
 * transaction that also adds the extent referring to it, or the chunk is
 * collected as garbage.
 */
export function putChunk(
  db: Db,
  volume: number,
  enc: EncodedChunk,
  reencode?: () => EncodedChunk,
): { id: number; added: number } {
  const found = db.get<{ id: number }>(
    "SELECT id FROM chunks WHERE volume = ? AND hash = ?",
    volume,
    enc.hash,
  );
  if (found) return { id: found.id, added: 0 };
  if (enc.known) {
    if (!reencode) throw new Corrupt("a chunk vanished between encoding and storing it");
    enc = reencode();
  }
  const inline = enc.data.length <= INLINE_CHUNK_BYTES;
  const { lastId } = db.run(
    "INSERT INTO chunks(volume, hash, size, stored, codec, crc, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
    volume,
    enc.hash,
    enc.size,
    enc.data.length,
    enc.codec,
    enc.crc,
    inline ? enc.data : null,
  );
  if (!inline) db.run("INSERT INTO chunk_data(id, data) VALUES (?, ?)", lastId, enc.data);
  return { id: lastId, added: enc.data.length };
}

/** A bounded cache of decoded chunks, least recently used first out. */
export class ChunkCache {
  readonly limit: number;
  #bytes = 0;
  #map = new Map<number, Uint8Array>();
  /** Decodes in flight on the Workers (read-ahead), by chunk id. */
  readonly loading: Map<number, Promise<void>> = new Map();

  constructor(limitBytes: number) {
    this.limit = limitBytes;
  }

  get(id: number): Uint8Array | undefined {
    const v = this.#map.get(id);
    if (v) {
      this.#map.delete(id);
      this.#map.set(id, v);
    }
    return v;
  }

  set(id: number, plain: Uint8Array): void {
    if (plain.length > this.limit / 4) return;
    if (this.#map.has(id)) return;
    this.#map.set(id, plain);
    this.#bytes += plain.length;
    for (const [k, v] of this.#map) {
      if (this.#bytes <= this.limit) break;
      this.#map.delete(k);
      this.#bytes -= v.length;
    }
  }

  has(id: number): boolean {
    return this.#map.has(id);
  }

  clear(): void {
    this.#map.clear();
    this.#bytes = 0;
  }
}

/** The fields of a chunk row needed to decode it. */
export interface ChunkRow {
  size: number;
  codec: number;
  hash: Uint8Array;
  crc: number | null;
  data: Uint8Array | null;
}

/** A chunk row with its stored bytes, or undefined when missing. */
export function chunkRow(db: Db, id: number): ChunkRow | undefined {
  return db.get<ChunkRow>(
    `SELECT c.size, c.codec, c.hash, c.crc, IFNULL(c.data, d.data) AS data FROM chunks c
     LEFT JOIN chunk_data d ON d.id = c.id WHERE c.id = ?`,
    id,
  );
}

/**
 * Reads and decodes one chunk, checking its checksum or seal (and, with
 * `rehash`, its id); `Corrupt` if it is missing or damaged.
 */
export function loadChunk(
  db: Db,
  codec: ChunkCodec,
  cache: ChunkCache,
  id: number,
  rehash: boolean,
): Uint8Array {
  const hit = cache.get(id);
  if (hit) return hit;
  const row = chunkRow(db, id);
  if (!row || row.data === null) throw new Corrupt(`chunk ${id} is missing`);
  noteAllocation(row.data.length + row.size);
  const plain = codec.decode(row.data, row.codec, row.hash, row.size, row.crc, rehash);
  cache.set(id, plain);
  return plain;
}
