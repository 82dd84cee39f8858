/**
 * How names and other metadata are stored: the seam where encryption makes
 * them opaque. The plaintext codec stores a name's UTF-8 bytes as its lookup
 * key; the encrypted codec ({@linkcode SealedMeta}) stores a keyed hash as
 * the key and the sealed name beside it, bound to its directory.
 *
 * @module
 */

/** Turns names, symlink targets and extended attributes into stored bytes. */
export interface MetaCodec {
  /** True when entries sorted by key are sorted by name. */
  readonly sortedNames: boolean;
  /** The lookup key of `name` in directory `parent`. */
  entryKey(parent: number, name: string): Uint8Array;
  /** The stored name column: null when the key is the name itself. */
  sealName(parent: number, key: Uint8Array, name: string): Uint8Array | null;
  /** The name of an entry row; throws `Corrupt` if it was tampered with. */
  openName(parent: number, key: Uint8Array, sealed: Uint8Array | null): string;
  sealTarget(node: number, target: string): Uint8Array;
  openTarget(node: number, stored: Uint8Array): string;
  /** The lookup key of extended attribute `name` on `node`. */
  xattrKey(node: number, name: string): Uint8Array;
  sealXattr(
    node: number,
    key: Uint8Array,
    name: string,
    value: Uint8Array,
  ): { name: Uint8Array | null; value: Uint8Array };
  openXattrName(node: number, key: Uint8Array, sealed: Uint8Array | null): string;
  openXattrValue(node: number, key: Uint8Array, stored: Uint8Array): Uint8Array;
  /** The lookup key of a lock's path. */
  lockKey(path: string): Uint8Array;
  /** Stores a lock's path or owner, bound to the lock's token. */
  sealLockText(token: string, text: string): Uint8Array;
  openLockText(token: string, stored: Uint8Array): string;
}

import { createHmac } from "node:crypto";
import { Corrupt } from "../errors.ts";
import { open, seal } from "./aead.ts";
import type { Subkeys } from "./keys.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const strict = new TextDecoder("utf-8", { fatal: true });

/** Metadata in plaintext: what an unencrypted volume uses. */
export const plainMeta: MetaCodec = {
  sortedNames: true,
  entryKey: (_parent, name) => encoder.encode(name),
  sealName: () => null,
  openName: (_parent, key) => decoder.decode(key),
  sealTarget: (_node, target) => encoder.encode(target),
  openTarget: (_node, stored) => decoder.decode(stored),
  xattrKey: (_node, name) => encoder.encode(name),
  sealXattr: (_node, _key, _name, value) => ({ name: null, value }),
  openXattrName: (_node, key) => decoder.decode(key),
  openXattrValue: (_node, _key, stored) => stored,
  lockKey: (path) => encoder.encode(path),
  sealLockText: (_token, text) => encoder.encode(text),
  openLockText: (_token, stored) => decoder.decode(stored),
};

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const LABELS = {
  lock: encoder.encode("lock"),
  entry: encoder.encode("entry"),
  target: encoder.encode("target"),
  xname: encoder.encode("xattr name"),
  xvalue: encoder.encode("xattr value"),
};

function text(bytes: Uint8Array): string {
  try {
    return strict.decode(bytes);
  } catch {
    throw new Corrupt("a sealed name is not UTF-8");
  }
}

/**
 * Metadata of an encrypted volume. An entry's key is a keyed hash of its
 * directory and name (16 bytes), so a lookup stays one indexed query; the
 * name itself is sealed with its directory and key as associated data, so
 * a row moved to another directory, or two names swapped, fail to open.
 * Listings come in key order, which is stable but not alphabetical.
 */
export class SealedMeta implements MetaCodec {
  readonly sortedNames = false;
  readonly #k: Subkeys;

  constructor(keys: Subkeys) {
    this.#k = keys;
  }

  #id(key: Uint8Array, owner: number, name: string): Uint8Array {
    const mac = createHmac("sha256", key).update(u64(owner)).update(encoder.encode(name)).digest();
    return new Uint8Array(mac.buffer, mac.byteOffset, 16).slice();
  }

  entryKey(parent: number, name: string): Uint8Array {
    return this.#id(this.#k.nameId, parent, name);
  }

  sealName(parent: number, key: Uint8Array, name: string): Uint8Array {
    return seal(this.#k.nameSeal, encoder.encode(name), concat(LABELS.entry, u64(parent), key));
  }

  openName(parent: number, key: Uint8Array, sealed: Uint8Array | null): string {
    if (!sealed) throw new Corrupt("an entry of an encrypted volume has no sealed name");
    return text(open(this.#k.nameSeal, sealed, concat(LABELS.entry, u64(parent), key)));
  }

  sealTarget(node: number, target: string): Uint8Array {
    return seal(this.#k.target, encoder.encode(target), concat(LABELS.target, u64(node)));
  }

  openTarget(node: number, stored: Uint8Array): string {
    return text(open(this.#k.target, stored, concat(LABELS.target, u64(node))));
  }

  xattrKey(node: number, name: string): Uint8Array {
    return this.#id(this.#k.xattrId, node, name);
  }

  sealXattr(
    node: number,
    key: Uint8Array,
    name: string,
    value: Uint8Array,
  ): { name: Uint8Array; value: Uint8Array } {
    return {
      name: seal(this.#k.xattrSeal, encoder.encode(name), concat(LABELS.xname, u64(node), key)),
      value: seal(this.#k.xattrSeal, value, concat(LABELS.xvalue, u64(node), key)),
    };
  }

  openXattrName(node: number, key: Uint8Array, sealed: Uint8Array | null): string {
    if (!sealed) throw new Corrupt("an attribute of an encrypted volume has no sealed name");
    return text(open(this.#k.xattrSeal, sealed, concat(LABELS.xname, u64(node), key)));
  }

  openXattrValue(node: number, key: Uint8Array, stored: Uint8Array): Uint8Array {
    return open(this.#k.xattrSeal, stored, concat(LABELS.xvalue, u64(node), key));
  }

  lockKey(path: string): Uint8Array {
    return this.#id(this.#k.lockId, 0, path);
  }

  sealLockText(token: string, text: string): Uint8Array {
    return seal(this.#k.lockSeal, encoder.encode(text), concat(LABELS.lock, encoder.encode(token)));
  }

  openLockText(token: string, stored: Uint8Array): string {
    return text(open(this.#k.lockSeal, stored, concat(LABELS.lock, encoder.encode(token))));
  }
}
