/**
 * The volume API: the `FileSystem` seam and its optional capabilities
 * (`api.ts`), the Deno-shaped facade (`volume.ts`), operations by node id
 * (`nodes.ts`), open handles (`handle.ts`), writing whole files
 * (`write.ts`), copies (`copy.ts`), walks and globs over any file system
 * (`walk.ts`, `glob.ts`), and what they share (`context.ts`).
 *
 * May import: `src/content/`, `src/tree/`, `src/core/`, `src/chunks/`, `src/locks/`, `src/feed/`,
 * `src/paths.ts`, `src/clock.ts`, `src/errors.ts`, `src/types.ts`.
 *
 * @module
 */

export * from "./api.ts";
export { Volume } from "./volume.ts";
export { NodeApi } from "./nodes.ts";
export { FileHandle, SeekMode } from "./handle.ts";
export { glob, walk } from "./walk.ts";
export { globToRegExp } from "./glob.ts";
