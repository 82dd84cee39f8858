/**
 * A codec Worker: encodes chunks off the main thread. Messages carry the
 * volume's {@linkcode CodecConfig}; codecs are cached by its id.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { ChunkCodec, type CodecConfig } from "./codec.ts";
import "../crypto/crypto.ts"; // registers the sealer for encrypted volumes

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
  db: DatabaseSync;
  known: StatementSync;
  load: StatementSync;
}
const readers = new Map<string, Reader | null>();

/**
 * A read-only connection to the store, to skip compressing chunks the
 * volume holds already (a hint: the main thread re-encodes if the chunk is
 * gone by the time it stores) and to load chunks for read-ahead.
 */
function reader(config: CodecConfig): Reader | null {
  if (!config.storePath) return null;
  let r = readers.get(config.storePath);
  if (r === undefined) {
    try {
      const db = new DatabaseSync(config.storePath, { readOnly: true, timeout: 1000 });
      r = {
        db,
        known: db.prepare("SELECT 1 FROM chunks WHERE volume = ? AND hash = ?"),
        load: db.prepare(
          `SELECT c.volume, c.size, c.codec, c.hash, c.crc, IFNULL(c.data, d.data) AS data
           FROM chunks c LEFT JOIN chunk_data d ON d.id = c.id WHERE c.id = ?`,
        ),
      };
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
      return r.known.get(config.volumeId, hash) !== undefined;
    } catch {
      return false;
    }
  };
}

interface Row {
  volume: number;
  size: number;
  codec: number;
  hash: Uint8Array;
  crc: number | null;
  data: Uint8Array | null;
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
      // Chunks the main connection has not committed yet are not here: the
      // main thread then decodes them itself.
      const row = reader(config)?.load.get(e.data.chunk!) as Row | undefined;
      if (!row || row.data === null || row.volume !== config.volumeId) {
        scope.postMessage({ seq, plain: null }, []);
        return;
      }
      let plain = codec.decode(row.data, row.codec, row.hash, row.size, row.crc, false);
      if (plain.byteLength !== plain.buffer.byteLength) plain = plain.slice();
      scope.postMessage({ seq, plain }, [plain.buffer as ArrayBuffer]);
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
