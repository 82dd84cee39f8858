/**
 * Paths inside a volume: `/`-separated, rooted at the volume's root whether
 * or not they start with `/`. `.` and `..` are resolved lexically; a path
 * that climbs above the root, holds a NUL, or has a name that is empty,
 * `.`/`..` where a name is required, or longer than 255 bytes is refused
 * with {@linkcode InvalidArgument}.
 *
 * @module
 */

import { InvalidArgument, NameTooLong } from "./errors.ts";

/** Longest name of one directory entry, in UTF-8 bytes (as on Linux). */
const MAX_NAME_BYTES = 255;
/** Longest path, in UTF-8 bytes (as on Linux). */
export const MAX_PATH_BYTES = 4096;

/** UTF-8 length of a string without allocating for ASCII. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Checks one directory entry name and returns it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkName } from "./paths.ts";
 * assert(checkName("notes.txt") === "notes.txt");
 * ```
 */
export function checkName(name: string): string {
  if (typeof name !== "string") {
    throw new InvalidArgument("a name must be a string");
  }
  if (name === "" || name === "." || name === "..") {
    throw new InvalidArgument(`invalid name ${JSON.stringify(name)}`);
  }
  if (name.includes("/")) {
    throw new InvalidArgument("a name may not contain '/'", name);
  }
  if (name.includes("\0")) {
    throw new InvalidArgument("a name may not contain NUL");
  }
  if (utf8Length(name) > MAX_NAME_BYTES) {
    throw new NameTooLong(
      `a name may be at most ${MAX_NAME_BYTES} bytes`,
      name.slice(0, 40) + "…",
    );
  }
  return name;
}

/**
 * Splits a path into its names, resolving `.` and `..` lexically.
 * The root is `[]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitPath } from "./paths.ts";
 * assert(splitPath("/a/./b/../c").join("/") === "a/c");
 * ```
 */
export function splitPath(path: string): string[] {
  if (typeof path !== "string") {
    throw new InvalidArgument("a path must be a string");
  }
  if (path === "") throw new InvalidArgument("empty path");
  if (path.includes("\0")) {
    throw new InvalidArgument("a path may not contain NUL");
  }
  if (path.length > MAX_PATH_BYTES || utf8Length(path) > MAX_PATH_BYTES) {
    throw new InvalidArgument(`a path may be at most ${MAX_PATH_BYTES} bytes`);
  }
  const names: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (names.length === 0) {
        throw new InvalidArgument("path climbs above the volume root", path);
      }
      names.pop();
      continue;
    }
    names.push(checkName(part));
  }
  return names;
}

/**
 * The canonical form of a path: `/` followed by its names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizePath } from "./paths.ts";
 * assert(normalizePath("docs//2026/./plan.md") === "/docs/2026/plan.md");
 * ```
 */
export function normalizePath(path: string): string {
  return "/" + splitPath(path).join("/");
}

/**
 * Joins a directory path and a relative path, then normalises.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { joinPath } from "./paths.ts";
 * assert(joinPath("/docs", "../notes.txt") === "/notes.txt");
 * ```
 */
export function joinPath(dir: string, rel: string): string {
  return normalizePath(rel.startsWith("/") ? rel : `${dir}/${rel}`);
}
