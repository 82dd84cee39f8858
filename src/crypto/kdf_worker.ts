/**
 * A one-shot Worker for Argon2id: hash-wasm keeps its WebAssembly memory
 * (64 MiB at Trove's default) for the life of the thread that ran it, so
 * derivations run here and the memory goes when the Worker ends.
 *
 * @module
 */

import { type KdfRequest, runKdf } from "./kdf.ts";

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<KdfRequest>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = async (e) => {
  try {
    scope.postMessage({ ok: true, value: await runKdf(e.data) });
  } catch (err) {
    scope.postMessage({ ok: false, error: (err as Error).message });
  }
};
