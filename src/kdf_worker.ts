/**
 * A one-shot Worker for Argon2id: hash-wasm keeps its WebAssembly memory
 * (64 MiB at Trove's default) for the life of the thread that ran it, so
 * derivations run here and the memory goes when the Worker ends.
 *
 * @module
 */

import { argon2id, argon2Verify } from "hash-wasm";

type Request =
  | {
    op: "derive";
    password: string;
    salt: Uint8Array;
    memoryKiB: number;
    iterations: number;
    parallelism: number;
    encoded: boolean;
  }
  | { op: "verify"; password: string; hash: string };

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Request>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = async (e) => {
  const r = e.data;
  try {
    if (r.op === "verify") {
      scope.postMessage({
        ok: true,
        value: await argon2Verify({ password: r.password, hash: r.hash }),
      });
    } else {
      scope.postMessage({
        ok: true,
        value: await argon2id({
          password: r.password,
          salt: r.salt,
          parallelism: r.parallelism,
          iterations: r.iterations,
          memorySize: r.memoryKiB,
          hashLength: 32,
          outputType: r.encoded ? "encoded" : "binary",
        }),
      });
    }
  } catch (err) {
    scope.postMessage({ ok: false, error: (err as Error).message });
  }
};
