/**
 * The layers of an overlay and how a path resolves through them. Layer 0
 * is the upper (writable) one, then the lower ones by priority, highest
 * first. A name in a layer hides the same name in the layers below it,
 * except that directories merge; a whiteout (a character device 0/0)
 * hides the name below without showing anything; an opaque directory
 * (`trusted.overlay.opaque` = `y`) hides the directories below it. A
 * symlink met on the way is followed through the merged view.
 *
 * @module
 */

import { FilesystemLoop, NotADirectory, NotFound } from "../errors.ts";
import { splitPath } from "../paths.ts";
import type { DirEntryPlus, FileInfo } from "../types.ts";
import { type FileSystem, hasXattrs } from "../volume/api.ts";

/** One layer of an overlay. */
export interface Layer {
  name: string;
  /** Higher is searched first (the upper layer is above every lower one). */
  priority: number;
  fs: FileSystem;
  /** The store file it lives in, when known. */
  path: string | null;
  writable: boolean;
  /** Closes what the overlay opened for this layer (a store it opened itself). */
  close?: () => Promise<void>;
}

/** The xattr that marks an opaque directory, as overlayfs names it. */
export const OPAQUE = "trusted.overlay.opaque";

/** True for a whiteout: a character device with device number 0. */
export function isWhiteout(info: FileInfo): boolean {
  return info.isCharDevice && info.rdev === 0;
}

/** `lstat` in one layer, or null when the layer does not hold the path. */
export async function lstatIn(fs: FileSystem, path: string): Promise<FileInfo | null> {
  try {
    return await fs.lstat(path);
  } catch (e) {
    if (e instanceof NotFound || e instanceof NotADirectory) return null;
    throw e;
  }
}

/** True when directory `path` of `fs` is opaque. */
export async function isOpaque(fs: FileSystem, path: string): Promise<boolean> {
  if (!hasXattrs(fs)) return false;
  try {
    return new TextDecoder().decode(await fs.getXattr(path, OPAQUE)) === "y";
  } catch {
    return false;
  }
}

/** A path as one layer holds it. */
export interface Hit {
  /** Index into the overlay's layers (0: upper). */
  layer: number;
  info: FileInfo;
}

/** Where `path` lives: the layers that show it, winner first (several only for directories). */
export interface Resolved {
  /** The canonical path (after following symlinks met on the way). */
  path: string;
  hits: Hit[];
}

const MAX_LINKS = 40;

/** An entry's metadata and whether it is an opaque directory, in one read; null if absent. */
async function entryIn(
  fs: FileSystem,
  path: string,
): Promise<{ info: FileInfo; opaque: boolean } | null> {
  try {
    const { info, xattrs } = await fs.statPlus(path, { follow: false });
    const o = xattrs.get(OPAQUE);
    return {
      info,
      opaque: info.isDirectory && o !== undefined && new TextDecoder().decode(o) === "y",
    };
  } catch (e) {
    if (e instanceof NotFound || e instanceof NotADirectory) return null;
    throw e;
  }
}

/** The layers that show directory entry `path`, given the layers that show its parent. */
async function hitsOf(layers: Layer[], parents: number[], path: string): Promise<Hit[]> {
  const hits: Hit[] = [];
  for (const i of parents) {
    const found = await entryIn(layers[i].fs, path);
    if (!found) continue;
    const { info } = found;
    if (isWhiteout(info)) break;
    if (!info.isDirectory) {
      if (hits.length === 0) hits.push({ layer: i, info });
      break;
    }
    hits.push({ layer: i, info });
    if (found.opaque) break;
  }
  return hits;
}

/**
 * Resolves `path` through the layers; `follow` follows a final symlink.
 * `NotFound` when no layer shows it.
 */
export async function resolve(
  layers: Layer[],
  path: string,
  follow: boolean,
  roots?: number[],
): Promise<Resolved> {
  let names = splitPath(path);
  for (let hops = 0; hops <= MAX_LINKS; hops++) {
    let dirs = layers.map((_, i) => i);
    // The layers whose root takes part, when the caller knows them (it need not stat them).
    if (roots && names.length > 0) dirs = roots;
    let done: Resolved | null = null;
    let restart: string[] | null = null;
    for (let k = roots && names.length > 0 ? 1 : 0; k <= names.length; k++) {
      const p = "/" + names.slice(0, k).join("/");
      const hits = k === 0 ? await rootHits(layers) : await hitsOf(layers, dirs, p);
      if (hits.length === 0) throw new NotFound("no such file or directory", p);
      const top = hits[0];
      const last = k === names.length;
      if (top.info.isSymlink && (!last || follow)) {
        const target = await layers[top.layer].fs.readLink(p);
        const joined = target.startsWith("/")
          ? target
          : "/" + [...names.slice(0, k - 1), target].join("/");
        restart = [...splitPath(joined), ...names.slice(k)];
        break;
      }
      if (last) {
        done = { path: p, hits };
        break;
      }
      if (!top.info.isDirectory) throw new NotADirectory("not a directory", p);
      dirs = hits.map((h) => h.layer);
    }
    if (done) return done;
    names = restart!;
  }
  throw new FilesystemLoop("too many levels of symbolic links", path);
}

/** Every layer's root, until an opaque one. */
export async function rootHits(layers: Layer[]): Promise<Hit[]> {
  const hits: Hit[] = [];
  for (const [i, l] of layers.entries()) {
    hits.push({ layer: i, info: await l.fs.stat("/") });
    if (await isOpaque(l.fs, "/")) break;
  }
  return hits;
}

/** A merged directory's entries: the first layer's entry of each name, whiteouts hiding. */
export async function* mergedEntries(
  layers: Layer[],
  dir: Resolved,
  options: { xattrs?: boolean } = {},
): AsyncIterableIterator<DirEntryPlus & { layer: number }> {
  const seen = new Set<string>();
  for (const { layer } of dir.hits) {
    for await (const e of layers[layer].fs.readDirPlus(dir.path, options)) {
      if (seen.has(e.name)) continue;
      seen.add(e.name);
      if (isWhiteout(e.info)) continue;
      yield { ...e, layer };
    }
  }
}
