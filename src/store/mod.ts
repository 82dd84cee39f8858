/**
 * A store: the `Store` that owns the file (`store.ts`), the `volumes`
 * table and its rules (`volumes.ts`), WebDAV users (`users.ts`), and the
 * list of rooms whose migrations, invariants and removals the store runs
 * (`rooms.ts` — a new room adds itself there).
 *
 * May import: every room below it (`src/check/`, `src/volume/`, `src/tree/`, `src/crypto/`,
 * `src/core/`, `src/db/`, …), `src/errors.ts`, `src/types.ts`.
 *
 * @module
 */

export { Store, type StoreOptions, VOLUME_DEFAULTS } from "./store.ts";
export { type UserInfo, type UserOptions, Users } from "./users.ts";
export { MIGRATIONS, ROOMS, SCHEMA_VERSION } from "./rooms.ts";
