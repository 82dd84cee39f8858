/**
 * The chunk room's seams: where the stored bytes of chunks live
 * ({@linkcode ChunkBackend}) and what the index says about each chunk
 * ({@linkcode ChunkMeta}). The index — id, hash, sizes, codec, checksum,
 * reference count — stays in SQLite; a backend holds only bytes.
 *
 * @module
 */

/** What decoding a chunk needs besides its stored bytes: one `chunks` row. */
export interface ChunkMeta {
  /** Plaintext length. */
  size: number;
  /** `Codec` bits describing the stored bytes. */
  codec: number;
  /** The chunk id: SHA-256 of the plaintext, keyed (HMAC) when encrypted. */
  hash: Uint8Array;
  /** CRC-32 of the plaintext; null when the stored bytes are sealed. */
  crc: number | null;
}

/**
 * Where chunks' stored (compressed, sealed) bytes live, by chunk row id.
 * Ids are never reused, so a late delete cannot hit a newer chunk.
 *
 * The contract:
 * - `put` is called inside the transaction that adds the chunk's index row;
 *   the bytes must be durable once that transaction commits, so a commit
 *   never references bytes the backend has not made durable.
 * - Chunks that lose their last reference are queued (`chunk_deletes`), and
 *   `delete` is called when the queue is drained: by every commit when the
 *   backend joins SQLite's transactions (the default backend), else by
 *   `gc`, so a remote backend can delete later.
 * - The calls are synchronous because the engine's commits are SQLite
 *   transactions; a remote backend keeps a local write-back stage behind
 *   this interface.
 *
 * @example The default backend keeps bytes in the store file
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ChunkBackend } from "./api.ts";
 * const memory = new Map<number, Uint8Array>();
 * const backend: ChunkBackend = {
 *   name: "memory",
 *   transactional: false,
 *   inlineBytes: 0,
 *   has: (ids) => new Set(ids.filter((id) => memory.has(id))),
 *   get: (id) => memory.get(id) ?? null,
 *   put: (id, bytes) => void memory.set(id, bytes),
 *   delete: (ids) => ids.forEach((id) => memory.delete(id)),
 * };
 * backend.put(1, new Uint8Array([1]));
 * assert(backend.has([1, 2]).has(1) && backend.get(2) === null);
 * ```
 */
export interface ChunkBackend {
  /** A short name for reports (`sqlite`). */
  readonly name: string;
  /**
   * True when `put` and `delete` join the caller's SQLite transaction, so
   * the delete queue can be drained by the commit that fills it.
   */
  readonly transactional: boolean;
  /**
   * Stored bytes up to this size live in the index row itself (one table
   * fewer touched per small file); 0 for none.
   */
  readonly inlineBytes: number;
  /** Which of `ids` the backend holds. */
  has(ids: readonly number[]): Set<number>;
  /** The stored bytes of chunk `id`, or null when the backend holds none. */
  get(id: number): Uint8Array | null;
  /** Stores the bytes of chunk `id`. */
  put(id: number, bytes: Uint8Array): void;
  /** Forgets the bytes of these chunks. */
  delete(ids: readonly number[]): void;
  /**
   * Forgets bytes the index does not know (left by a crash between a put
   * outside SQLite's transaction and its commit); returns how many. `gc`
   * calls it.
   */
  sweep?(): number;
}
