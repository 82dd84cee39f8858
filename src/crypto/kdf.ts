/**
 * Argon2id off the calling thread, in a Worker that ends afterwards (see
 * `kdf_worker.ts`: it gives back the 64 MiB hash-wasm would otherwise keep
 * for good). If a Worker cannot start, the work runs here instead.
 *
 * @module
 */

import { argon2id, argon2Verify } from "../_deps.ts";

async function inWorker<T>(message: unknown, fallback: () => Promise<T>): Promise<T> {
  let worker: Worker;
  try {
    worker = new Worker(new URL("./kdf_worker.ts", import.meta.url), { type: "module" });
  } catch {
    return await fallback();
  }
  try {
    const reply = await new Promise<{ ok: boolean; value?: T; error?: string } | null>(
      (resolve) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => {
          e.preventDefault();
          resolve(null);
        };
        worker.postMessage(message);
      },
    );
    if (reply === null) return await fallback();
    if (!reply.ok) throw new Error(reply.error);
    return reply.value as T;
  } finally {
    worker.terminate();
  }
}

/** Parameters of one Argon2id derivation. */
export interface Argon2Params {
  password: string;
  salt: Uint8Array;
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

/** What one Argon2id job asks for, in this thread or the Worker. */
export type KdfRequest =
  | ({ op: "derive"; encoded: boolean } & Argon2Params)
  | { op: "verify"; password: string; hash: string };

/** Runs one Argon2id job in the calling thread. */
export function runKdf(r: KdfRequest): Promise<Uint8Array | string | boolean> {
  if (r.op === "verify") return argon2Verify({ password: r.password, hash: r.hash });
  return argon2id({
    password: r.password,
    salt: r.salt,
    parallelism: r.parallelism,
    iterations: r.iterations,
    memorySize: r.memoryKiB,
    hashLength: 32,
    outputType: r.encoded ? "encoded" : "binary",
  });
}

function job<T>(r: KdfRequest): Promise<T> {
  return inWorker(r, () => runKdf(r) as Promise<T>);
}

/** A 32-byte Argon2id key. */
export function deriveKey(p: Argon2Params): Promise<Uint8Array> {
  return job({ op: "derive", ...p, encoded: false });
}

/** An encoded Argon2id password hash (`$argon2id$…`). */
export function hashPassword(p: Argon2Params): Promise<string> {
  return job({ op: "derive", ...p, encoded: true });
}

/** True when `password` matches an encoded Argon2id hash. */
export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return job({ op: "verify", password, hash });
}
