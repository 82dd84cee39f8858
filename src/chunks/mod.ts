/**
 * The chunk pool: content-addressed chunks and their index (`pool.ts`:
 * dedup, references, the delete queue), the chunk pipeline (`codec.ts`:
 * hash, zstd compression, sealing, checksums — change compression here),
 * where stored bytes live (`api.ts`: the `ChunkBackend` seam;
 * `sqlite_backend.ts`: the default, in the store file), the codec Workers
 * (`workers.ts`, `codec_worker.ts`), the decoded-chunk cache and chunk
 * memory (`cache.ts`, `memory.ts`), verifying every chunk (`verify.ts`),
 * and the room's schema and invariants (`room.ts`).
 *
 * May import: `src/db/`, `src/errors.ts`; the codec Worker also `src/crypto/aead.ts`.
 *
 * @module
 */

export type { ChunkBackend, ChunkMeta } from "./api.ts";
export { ChunkCodec, Codec, type CodecConfig } from "./codec.ts";
export { SqliteChunkBackend } from "./sqlite_backend.ts";
export { chunksRoom } from "./room.ts";
