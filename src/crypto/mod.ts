/**
 * At-rest encryption: the AEAD (`aead.ts`: XChaCha20-Poly1305 from
 * noble's HChaCha20 and node:crypto), key slots, key files and subkeys
 * (`keys.ts`), Argon2id off the main thread (`kdf.ts`, `kdf_worker.ts`),
 * and how names, symlink targets, xattrs and locks are stored, plain or
 * sealed (`meta.ts`). Change a passphrase's cost in `keys.ts`.
 *
 * May import: `src/db/` (room types), `src/chunks/codec.ts` (to register the sealer), `src/errors.ts`,
 * `src/types.ts`, `src/_deps.ts`.
 *
 * @module
 */

export { open, seal } from "./aead.ts";
export { generateKeyFile, keysRoom, makeSlot, subkeys, unlock } from "./keys.ts";
export { type MetaCodec, plainMeta, SealedMeta } from "./meta.ts";
