/**
 * A codec Worker: encodes chunks off the main thread. Messages carry the
 * volume's {@linkcode CodecConfig}; codecs are cached by its id.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { ChunkCodec, type CodecConfig } from "./codec.ts";

/** Encode the first `len` bytes of `buf`, or decode `buf` (stored bytes). */
interface Request {
  seq: number;
  op: "encode" | "decode";
  config: CodecConfig;
  /** A whole transferred buffer. */
  buf: Uint8Array;
  len: number;
  /** For decode: the chunk row's fields. */
  codec?: number;
  hash?: Uint8Array;
  crc?: number | null;
}

const codecs = new Map<string, ChunkCodec>();
const lookups = new Map<string, StatementSync | null>();

/**
 * A read-only statement finding a chunk by id in the store, so chunks the
 * volume holds already are not compressed again (a hint: the main thread
 * re-encodes if the chunk is gone by the time it stores).
 */
function known(config: CodecConfig): ((hash: Uint8Array) => boolean) | undefined {
  if (!config.storePath || config.noDedup) return undefined;
  let stmt = lookups.get(config.storePath);
  if (stmt === undefined) {
    try {
      const db = new DatabaseSync(config.storePath, { readOnly: true, timeout: 1000 });
      stmt = db.prepare("SELECT 1 FROM chunks WHERE volume = ? AND hash = ?");
    } catch {
      stmt = null;
    }
    lookups.set(config.storePath, stmt);
  }
  if (!stmt) return undefined;
  const s = stmt;
  return (hash) => {
    try {
      return s.get(config.volumeId, hash) !== undefined;
    } catch {
      return false;
    }
  };
}
const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Request>) => void) | null;
  postMessage(message: unknown, transfer: Transferable[]): void;
};

scope.onmessage = (e) => {
  const { seq, op, config, buf, len } = e.data;
  try {
    let codec = codecs.get(config.id);
    if (!codec) {
      codec = new ChunkCodec(config);
      codecs.set(config.id, codec);
    }
    if (op === "decode") {
      const { codec: bits, hash, crc } = e.data;
      let plain = codec.decode(buf, bits!, hash!, len, crc ?? null, false);
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
    scope.postMessage({ seq, error: { name: err.name, message: err.message }, buf }, [
      buf.buffer as ArrayBuffer,
    ]);
  }
};
