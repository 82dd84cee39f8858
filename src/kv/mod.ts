/**
 * The key/value room: flat keys in namespaces over the chunk pool
 * (`kv.ts`, its rows in `items.ts`, large values staged in `staging.ts`),
 * and the `PersistentMap` kept in them. Its tables, invariants and
 * removal: `room.ts`. A KV store is a hidden volume row, so it shares the
 * chunk room's pool and codec and the crypto room's key slots.
 *
 * May import: `src/chunks/`, `src/content/limits.ts`, `src/core/`,
 * `src/crypto/`, `src/db/`, `src/store/` (the map opens a store),
 * `src/errors.ts`.
 *
 * @module
 */

export { type KvItemInfo, type KvRange, KvStore, type KvValue } from "./kv.ts";
export { MAX_KEY_BYTES, parseKey } from "./keys.ts";
export { kvRoom } from "./room.ts";
export { PersistentMap, type PersistentMapOptions } from "./persistent_map.ts";
