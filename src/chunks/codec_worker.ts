/**
 * A codec Worker: encodes chunks off the main thread, and loads and decodes
 * chunks ahead of sequential readers. It reads the chunk index and the
 * chunk backend through the same functions as the main thread, over its own
 * read-only connection. Messages carry the volume's {@linkcode CodecConfig};
 * codecs are cached by its id.
 *
 * @module
 */

import { Db } from "../db/db.ts";
import { ChunkCodec, type CodecConfig } from "./codec.ts";
import { noteAllocation } from "./memory.ts";
import { hasChunk, storedChunk } from "./pool.ts";
import { SqliteChunkBackend } from "./sqlite_backend.ts";
import "../crypto/aead.ts"; // registers the sealer for encrypted volumes

/**
 * Encode the first `len` bytes of `buf`, load chunk `chunk` and decode it,
 * or close every connection (before the pool ends this Worker).
 */
interface Request {
  seq: number;
  op: "encode" | "load" | "close";
  chunk?: number;
  config: CodecConfig;
  /** A whole transferred buffer. */
  buf: Uint8Array;
  len: number;
}

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Request>) => void) | null;
  postMessage(message: unknown, transfer: Transferable[]): void;
};
const codecs = new Map<string, ChunkCodec>();

interface Reader {
  db: Db;
  backend: SqliteChunkBackend;
}
const readers = new Map<string, Reader | null>();

/**
 * A read-only view of the store, to skip compressing chunks the volume
 * holds already (a hint: the main thread re-encodes if the chunk is gone by
 * the time it stores) and to load chunks for read-ahead.
 */
function reader(config: CodecConfig): Reader | null {
  if (!config.storePath) return null;
  let r = readers.get(config.storePath);
  if (r === undefined) {
    try {
      const db = Db.openReader(config.storePath);
      r = { db, backend: new SqliteChunkBackend(db) };
    } catch {
      r = null;
    }
    readers.set(config.storePath, r);
  }
  return r;
}

function known(config: CodecConfig): ((hash: Uint8Array) => boolean) | undefined {
  const r = config.noDedup ? null : reader(config);
  if (!r) return undefined;
  return (hash) => {
    try {
      return hasChunk(r.db, config.volumeId, hash);
    } catch {
      return false;
    }
  };
}

/** Chunk `id` decoded, or null when this connection cannot see it (not committed yet). */
function load(codec: ChunkCodec, config: CodecConfig, id: number): Uint8Array | null {
  const r = reader(config);
  if (!r) return null;
  let found: ReturnType<typeof storedChunk>;
  try {
    found = storedChunk(r.db, r.backend, id);
  } catch {
    return null; // the main thread decodes it itself, and reports
  }
  if (found.row.volume !== config.volumeId) return null;
  const plain = codec.decode(found.data, found.row);
  // The stored bytes of a sealed or compressed chunk die here (the plaintext is handed over).
  if (plain !== found.data) noteAllocation(found.data.length);
  return plain.byteLength === plain.buffer.byteLength ? plain : plain.slice();
}

scope.onmessage = (e) => {
  if ((e.data as { op: string }).op === "close") {
    // Close the connections before the pool ends this Worker, so the
    // store's own last close can fold its log into the file.
    for (const r of readers.values()) r?.db.close();
    readers.clear();
    scope.postMessage({ closed: true }, []);
    return;
  }
  const { seq, op, config, buf, len } = e.data;
  try {
    let codec = codecs.get(config.id);
    if (!codec) {
      codec = new ChunkCodec(config);
      codecs.set(config.id, codec);
    }
    if (op === "load") {
      const plain = load(codec, config, e.data.chunk!);
      scope.postMessage({ seq, plain }, plain ? [plain.buffer as ArrayBuffer] : []);
      return;
    }
    const enc = codec.encode(buf.subarray(0, len), known(config));
    const transfer: Transferable[] = [buf.buffer as ArrayBuffer];
    if (enc.data.buffer !== buf.buffer) {
      if (enc.data.byteLength !== enc.data.buffer.byteLength) enc.data = enc.data.slice();
      transfer.push(enc.data.buffer as ArrayBuffer);
    }
    scope.postMessage({ seq, enc, buf }, transfer);
  } catch (error) {
    const err = error as Error;
    // A load carries no buffer; an encode hands its buffer back.
    scope.postMessage(
      { seq, error: { name: err.name, message: err.message }, buf },
      buf ? [buf.buffer as ArrayBuffer] : [],
    );
  }
};

// Announce readiness, so the pool hands over work (and buffers) only to a
// Worker that started.
scope.postMessage({ ready: true }, []);
