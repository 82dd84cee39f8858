/**
 * How names and other metadata are stored: the seam where encryption makes
 * them opaque. The plaintext codec stores a name's UTF-8 bytes as its lookup
 * key; the encrypted codec (see `crypto.ts`) stores a keyed hash as the key
 * and the sealed name beside it, bound to its directory.
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

const encoder = new TextEncoder();
const decoder = new TextDecoder();

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
