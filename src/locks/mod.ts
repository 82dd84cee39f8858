/**
 * Advisory locks on paths (WebDAV locks), kept in the store with their
 * scope rows (`locks.ts` — change lock expiry here; it reads the store's
 * clock).
 *
 * May import: `src/core/`, `src/crypto/meta.ts` (types), `src/db/`, `src/paths.ts`, `src/errors.ts`.
 *
 * @module
 */

export { type LockInfo, type LockRequest, Locks, locksRoom } from "./locks.ts";
