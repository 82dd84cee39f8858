/**
 * A codec Worker: encodes chunks off the main thread. Messages carry the
 * volume's {@linkcode CodecConfig}; codecs are cached by its id.
 *
 * @module
 */

import { ChunkCodec, type CodecConfig } from "./codec.ts";

interface Request {
  seq: number;
  config: CodecConfig;
  plain: Uint8Array;
}

const codecs = new Map<string, ChunkCodec>();
const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Request>) => void) | null;
  postMessage(message: unknown, transfer: Transferable[]): void;
};

scope.onmessage = (e) => {
  const { seq, config, plain } = e.data;
  try {
    let codec = codecs.get(config.id);
    if (!codec) {
      codec = new ChunkCodec(config);
      codecs.set(config.id, codec);
    }
    const enc = codec.encode(plain);
    if (enc.data.buffer !== plain.buffer && enc.data.byteLength !== enc.data.buffer.byteLength) {
      enc.data = enc.data.slice();
    }
    const transfer: Transferable[] = [plain.buffer as ArrayBuffer];
    if (enc.data.buffer !== plain.buffer) transfer.push(enc.data.buffer as ArrayBuffer);
    scope.postMessage({ seq, enc, plain }, transfer);
  } catch (error) {
    const err = error as Error;
    scope.postMessage({ seq, error: { name: err.name, message: err.message }, plain }, [
      plain.buffer as ArrayBuffer,
    ]);
  }
};
