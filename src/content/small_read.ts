/**
 * Reading a small file whole in one step: what `readFile` and a WebDAV GET
 * of a small file do when no handle of this process holds the file open.
 *
 * @module
 */

import type { ChunkCodec } from "../chunks/codec.ts";
import { loadChunk } from "../chunks/pool.ts";
import type { Tree } from "../tree/tree.ts";
import { INLINE_ENCODE_BYTES } from "./slots.ts";

/**
 * The committed content of a file of at most one chunk of up to
 * {@linkcode INLINE_ENCODE_BYTES}, read on the calling thread inside the
 * caller's read transaction (no handle, no Worker round trip): what a
 * small `readFile` or GET needs. Null when the file does not qualify (then
 * the general path reads it).
 */
export function readSmallFile(
  tree: Tree,
  codec: ChunkCodec,
  node: { id: number; size: number; version: number | null },
): Uint8Array | null {
  if (node.size > INLINE_ENCODE_BYTES || node.size > tree.vol.chunkSize) return null;
  if (node.version === null) return node.size === 0 ? new Uint8Array(0) : null;
  const r = tree.db.get<{ chunk: number | null; cs: number }>(
    `SELECT e.chunk, v.chunk_size AS cs FROM versions v
     LEFT JOIN extents e ON e.version = v.id AND e.idx = 0 WHERE v.id = ?`,
    node.version,
  );
  if (!r || r.cs !== tree.vol.chunkSize) return null;
  const out = new Uint8Array(node.size);
  if (r.chunk === null || node.size === 0) return out; // a hole reads as zeros
  const data = loadChunk(tree.core.chunkSource(codec), r.chunk);
  out.set(data.subarray(0, Math.min(data.length, node.size)));
  return out;
}
