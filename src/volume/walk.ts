/**
 * Walking trees and matching globs over any {@linkcode FileSystem}'s read
 * calls, so volumes, snapshots and overlays walk the same way.
 *
 * @module
 */

import { NotADirectory, NotFound } from "../errors.ts";
import { joinPath, normalizePath } from "../paths.ts";
import type { DirEntry, WalkEntry, WalkOptions } from "../types.ts";
import type { FileSystem } from "./api.ts";
import { globBase, globToRegExp, isLiteralGlob } from "./glob.ts";

/**
 * `exists` over any file system's `stat`: false for a missing path (or one
 * through a non-directory), and when it is not of the kind asked for.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "../../mod.ts";
 * import { existsIn } from "./walk.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * const vol = await store.volume();
 * assert(await existsIn(vol, "/", { isDirectory: true }) && !(await existsIn(vol, "/x")));
 * ```
 */
export async function existsIn(
  fs: Pick<FileSystem, "stat">,
  path: string,
  options: { isFile?: boolean; isDirectory?: boolean } = {},
): Promise<boolean> {
  try {
    const info = await fs.stat(path);
    if (options.isFile && !info.isFile) return false;
    if (options.isDirectory && !info.isDirectory) return false;
    return true;
  } catch (e) {
    if (e instanceof NotFound || e instanceof NotADirectory) return false;
    throw e;
  }
}

/** The read calls a walk needs. */
export type Walkable = Pick<FileSystem, "stat" | "lstat" | "readDir" | "exists">;

function wantedBy(options: WalkOptions): (path: string, e: DirEntry) => boolean {
  const { includeFiles = true, includeDirs = true, includeSymlinks = true, exts, match, skip } =
    options;
  return (path, e) => {
    if (e.isFile && !includeFiles) return false;
    if (e.isDirectory && !includeDirs) return false;
    if (e.isSymlink && !includeSymlinks) return false;
    if (exts && !exts.some((x) => path.endsWith(x.startsWith(".") ? x : "." + x))) return false;
    if (match && !match.some((re) => re.test(path))) return false;
    if (skip && skip.some((re) => re.test(path))) return false;
    return true;
  };
}

/** One directory's entries as walk entries, following symlinks when asked. */
async function* children(
  fs: Walkable,
  path: string,
  options: WalkOptions,
  seen: Set<number>,
): AsyncGenerator<WalkEntry> {
  for await (const e of fs.readDir(path)) {
    const p = path === "/" ? "/" + e.name : `${path}/${e.name}`;
    let entry: WalkEntry = { ...e, path: p };
    if (e.isSymlink && options.followSymlinks) {
      try {
        const info = await fs.stat(p);
        entry = { ...entry, isFile: info.isFile, isDirectory: info.isDirectory, ino: info.ino };
        if (info.isDirectory && seen.has(info.ino)) continue;
      } catch (err) {
        if (!(err instanceof NotFound)) throw err;
      }
    }
    yield entry;
  }
}

/**
 * Walks a tree depth-first, like the standard library's `walk`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "../../mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".trove" });
 * await Deno.remove(path);
 * await using store = await Store.open(path, { create: true });
 * const vol = await store.volume();
 * await vol.mkdir("/a/b", { recursive: true });
 * const seen: string[] = [];
 * for await (const e of vol.walk("/")) seen.push(e.path);
 * assert(seen.join() === "/,/a,/a/b");
 * await Deno.remove(path);
 * ```
 */
export async function* walk(
  fs: Walkable,
  root = "/",
  options: WalkOptions = {},
): AsyncIterableIterator<WalkEntry> {
  const maxDepth = options.maxDepth ?? Infinity;
  const wanted = wantedBy(options);
  const rootPath = normalizePath(root);
  const top = await fs.stat(rootPath);
  const topEntry: WalkEntry = {
    path: rootPath,
    name: rootPath === "/" ? "" : rootPath.slice(rootPath.lastIndexOf("/") + 1),
    isFile: top.isFile,
    isDirectory: top.isDirectory,
    isSymlink: false,
    ino: top.ino,
  };
  if (wanted(rootPath, topEntry)) yield topEntry;
  if (!top.isDirectory || maxDepth < 1) return;
  const seen = new Set<number>([top.ino]);
  const stack: { path: string; depth: number }[] = [{ path: rootPath, depth: 0 }];
  while (stack.length > 0) {
    const { path, depth } = stack.pop()!;
    const below: { path: string; depth: number }[] = [];
    for await (const entry of children(fs, path, options, seen)) {
      if (options.skip && options.skip.some((re) => re.test(entry.path))) continue;
      if (wanted(entry.path, entry)) yield entry;
      if (entry.isDirectory && depth + 1 < maxDepth) {
        seen.add(entry.ino);
        below.push({ path: entry.path, depth: depth + 1 });
      }
    }
    stack.push(...below.reverse());
  }
}

/**
 * Paths matching a glob (`*`, `**`, `?`, `[...]`, `{a,b}`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "../../mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".trove" });
 * await Deno.remove(path);
 * await using store = await Store.open(path, { create: true });
 * const vol = await store.volume();
 * await vol.writeTextFile("/a.md", "a");
 * await vol.writeTextFile("/b.txt", "b");
 * const found: string[] = [];
 * for await (const e of vol.glob("/*.md")) found.push(e.path);
 * assert(found.join() === "/a.md");
 * await Deno.remove(path);
 * ```
 */
export async function* glob(
  fs: Walkable,
  pattern: string,
  options: { includeDirs?: boolean; root?: string } = {},
): AsyncIterableIterator<WalkEntry> {
  const full = options.root ? joinPath(options.root, pattern) : pattern;
  const abs = full.startsWith("/") ? full : "/" + full;
  if (isLiteralGlob(abs)) {
    try {
      const info = await fs.lstat(abs);
      if (!info.isDirectory || options.includeDirs !== false) {
        yield {
          path: normalizePath(abs),
          name: abs.slice(abs.lastIndexOf("/") + 1),
          isFile: info.isFile,
          isDirectory: info.isDirectory,
          isSymlink: info.isSymlink,
          ino: info.ino,
        };
      }
    } catch (e) {
      if (!(e instanceof NotFound || e instanceof NotADirectory)) throw e;
    }
    return;
  }
  const re = globToRegExp(abs);
  const base = globBase(abs);
  if (!(await fs.exists(base, { isDirectory: true }))) return;
  const parts = (p: string) => p.split("/").filter((x) => x !== "").length;
  const depth = abs.includes("**") ? Infinity : parts(abs) - parts(base);
  for await (
    const e of walk(fs, base, { maxDepth: depth, includeDirs: options.includeDirs ?? true })
  ) {
    if (e.path !== base && re.test(e.path)) yield e;
  }
}
