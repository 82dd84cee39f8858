/**
 * Verifying the pool: every chunk read back through its backend, opened
 * or checksummed, decompressed and re-hashed against its id.
 *
 * @module
 */

import type { Db } from "../db/db.ts";
import type { Finding } from "../db/rooms.ts";
import { Corrupt } from "../errors.ts";
import type { ChunkBackend } from "./api.ts";
import type { ChunkCodec } from "./codec.ts";
import type { ChunkRow } from "./pool.ts";

/** What verifying the pool found and covered. */
export interface VerifyResult {
  findings: Finding[];
  chunksVerified: number;
  /** Chunks of volumes with no codec here (encrypted and locked). */
  chunksSkipped: number;
  bytesVerified: number;
}

/** How to verify: each volume's codec (null when locked) and how to name a node. */
export interface VerifyOptions {
  codecOf(volume: number): ChunkCodec | null;
  /** A node's path for reports, or null when it cannot be told. */
  nameOf(node: number): string | null;
  onProgress?: (done: number, total: number) => void;
}

/** Reads, decodes and re-hashes every chunk of the store. */
export function verifyChunks(db: Db, backend: ChunkBackend, options: VerifyOptions): VerifyResult {
  const out: VerifyResult = { findings: [], chunksVerified: 0, chunksSkipped: 0, bytesVerified: 0 };
  const total = Number(db.value("SELECT COUNT(*) FROM chunks"));
  const codecs = new Map<number, ChunkCodec | null>();
  const codec = (volume: number) => {
    if (!codecs.has(volume)) codecs.set(volume, options.codecOf(volume));
    return codecs.get(volume)!;
  };
  let after = 0;
  while (true) {
    const rows = db.all<ChunkRow & { id: number }>(
      `SELECT id, volume, size, codec, hash, crc, data FROM chunks WHERE id > ?
       ORDER BY id LIMIT 64`,
      after,
    );
    if (rows.length === 0) break;
    for (const r of rows) {
      after = r.id;
      const data = r.data ?? backend.get(r.id);
      if (data === null) continue; // the missing-data invariant reports it
      const c = codec(r.volume);
      if (!c) {
        out.chunksSkipped++;
        continue;
      }
      try {
        c.decode(data, r, { rehash: true });
        out.bytesVerified += r.size;
      } catch (e) {
        if (!(e instanceof Corrupt)) throw e;
        const users = db.all<{ node: number }>(
          `SELECT DISTINCT v.node FROM extents e JOIN versions v ON v.id = e.version
           WHERE e.chunk = ? LIMIT 10`,
          r.id,
        ).map((f) => options.nameOf(f.node) ?? `node ${f.node}`);
        out.findings.push({
          code: "corrupt-chunk",
          message: `chunk ${r.id} is corrupt (${e.message}); used by ${users.join(", ")}`,
        });
      }
      out.chunksVerified++;
    }
    options.onProgress?.(out.chunksVerified, total);
  }
  return out;
}
