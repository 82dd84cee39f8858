/**
 * KV keys, as borgstore has them: `namespace/name` or a bare `name` (the
 * root namespace, ""), printable ASCII with no spaces, no `..`, one `/`
 * at most (namespaces do not nest), at most 1,024 bytes.
 *
 * @module
 */

import { InvalidArgument } from "../errors.ts";

/** Longest key, in bytes. */
export const MAX_KEY_BYTES = 1024;

const PART = /^[\x21-\x2e\x30-\x7e]+$/;

function checkPart(part: string, what: string, key: string): void {
  if (part === "") throw new InvalidArgument(`a KV key needs a non-empty ${what}`, key);
  if (!PART.test(part)) {
    throw new InvalidArgument(
      `a KV ${what} is printable ASCII without spaces or '/'`,
      key.slice(0, 80),
    );
  }
  if (part.includes("..")) throw new InvalidArgument(`a KV ${what} may not hold '..'`, key);
}

/** A checked key split into its namespace and name. */
export interface ParsedKey {
  key: string;
  namespace: string;
  name: string;
}

/**
 * Checks `key` and splits it; `InvalidArgument` says what is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseKey } from "./keys.ts";
 * assert.deepEqual(parseKey("data/0123"), { key: "data/0123", namespace: "data", name: "0123" });
 * assert.throws(() => parseKey("a/b/c"));
 * assert.throws(() => parseKey("has space"));
 * ```
 */
export function parseKey(key: string): ParsedKey {
  if (typeof key !== "string") throw new InvalidArgument("a KV key is a string", String(key));
  if (key.length > MAX_KEY_BYTES) {
    throw new InvalidArgument(`a KV key is at most ${MAX_KEY_BYTES} bytes`, key.slice(0, 80));
  }
  const slash = key.indexOf("/");
  if (slash < 0) {
    checkPart(key, "name", key);
    return { key, namespace: "", name: key };
  }
  const namespace = key.slice(0, slash);
  const name = key.slice(slash + 1);
  if (name.includes("/")) throw new InvalidArgument("KV namespaces do not nest", key);
  checkPart(namespace, "namespace", key);
  checkPart(name, "name", key);
  return { key, namespace, name };
}

/** Checks a namespace ("" is the root one). */
export function checkNamespace(ns: string): string {
  if (ns === "") return ns;
  if (typeof ns !== "string") throw new InvalidArgument("a KV namespace is a string", String(ns));
  checkPart(ns.endsWith("/") ? ns.slice(0, -1) : ns, "namespace", ns);
  return ns.endsWith("/") ? ns.slice(0, -1) : ns;
}
