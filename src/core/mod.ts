/**
 * The shared context of one open store (`core.ts`): connection, chunk
 * backend, codec Workers, caches and buffers, the change feed, the clock,
 * the batch gate; this process's session and the files it holds open
 * (`sessions.ts` — change session timeouts here); the free-space reserve
 * on the store's disk (`disk.ts`).
 *
 * May import: `src/db/`, `src/chunks/`, `src/feed/`, `src/clock.ts`, `src/errors.ts`.
 *
 * @module
 */

export { type Closable, Core, type CoreOptions } from "./core.ts";
export { Session, sessionsRoom } from "./sessions.ts";
export { DiskReserve } from "./disk.ts";
