/**
 * An overlay: a writable upper volume over read-only lower layers, as one
 * `FileSystem`. What it does to the upper layer on each change:
 *
 * - a write, truncate, chmod, chown, utime or xattr change to a lower
 *   entry copies it up first (its parent directories too, with their
 *   modes, owners and times); a file's content is shared chunk for chunk
 *   when both layers are unencrypted volumes of one store with one chunk
 *   size, and copied otherwise;
 * - removing an entry a lower layer shows leaves a whiteout in the upper
 *   layer; making an entry where a whiteout is replaces it (a directory
 *   made there is opaque, so the lower one's entries stay hidden);
 * - renaming a lower entry copies the whole entry up (a directory with
 *   everything below it), renames it in the upper layer and leaves a
 *   whiteout where it was.
 *
 * @module
 */

import {
  AlreadyExists,
  InvalidArgument,
  IsADirectory,
  NotADirectory,
  NotEmpty,
  NotFound,
} from "../errors.ts";
import { joinPath, normalizePath } from "../paths.ts";
import {
  type CopyOptions,
  type MkdirOptions,
  type MknodOptions,
  type OpenMode,
  type OpenOptions,
  type RemoveOptions,
  type RenameOptions,
  specialOf,
  type WriteFileOptions,
  type XattrOptions,
} from "../types.ts";
import { type ByNode, type ExtendedAttributes, type FileSystem, hasXattrs } from "../volume/api.ts";
import type { FileHandle } from "../volume/handle.ts";
import type { Volume } from "../volume/volume.ts";
import {
  type Hit,
  isWhiteout,
  lstatIn,
  mergedEntries,
  OPAQUE,
  resolve,
  type Resolved,
} from "./layers.ts";
import { LayerStack } from "./stack.ts";
export type { LayerInfo, LayerSource, OverlayOptions } from "./stack.ts";
import type { OverlayOptions } from "./stack.ts";

const enc = new TextEncoder();

/** An overlay of volumes. */
export class Overlay extends LayerStack implements FileSystem, ExtendedAttributes, ByNode {
  private constructor(upper: Volume, path: string | null) {
    super(upper, path);
  }

  /**
   * Composes `upper` with `lowers` (first: searched first).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Overlay, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const base = await store.createVolume("base");
   * await base.writeTextFile("/game.cfg", "base");
   * await base.writeTextFile("/readme", "from base");
   * const mods = await store.createVolume("mods");
   * await using view = await Overlay.open({ upper: mods, lowers: [base] });
   * await view.writeTextFile("/game.cfg", "modded"); // copied up, then changed
   * assert((await view.readTextFile("/game.cfg")) === "modded");
   * assert((await base.readTextFile("/game.cfg")) === "base");
   * assert((await view.whichLayer("/readme")) === "base");
   * ```
   */
  static async open(options: OverlayOptions): Promise<Overlay> {
    const o = new Overlay(options.upper, options.upper.storePath ?? null);
    const lowers = options.lowers ?? [];
    for (const [i, l] of lowers.entries()) {
      const spec = typeof l === "string" || !("source" in l) ? { source: l } : l;
      await o.addLayer(spec.source, {
        name: spec.name,
        priority: spec.priority ?? lowers.length - i,
      });
    }
    return o;
  }

  async open(path: string, options?: OpenOptions | OpenMode): Promise<FileHandle> {
    const o = typeof options === "string" ? options : options ?? "r";
    const writes = typeof o === "string" ? o !== "r" : !!(o.write || o.append || o.truncate);
    if (!writes) {
      const r = await this.find(path, true);
      return await this.fsOf(r.hits[0]).open(r.path, options);
    }
    await this.#prepareWrite(path);
    return await this.upper.open(path, options);
  }
  // ---- copy-up, whiteouts -----------------------------------------------------

  /** What `path` resolves to, or null (a missing parent is still an error). */
  async #maybe(path: string, follow = false): Promise<Resolved | null> {
    try {
      return await this.find(path, follow);
    } catch (e) {
      if (e instanceof NotFound && (await this.#parentExists(path))) return null;
      throw e;
    }
  }

  async #parentExists(path: string): Promise<boolean> {
    const p = normalizePath(path);
    if (p === "/") return true;
    const parent = p.slice(0, p.lastIndexOf("/")) || "/";
    const r = await this.find(parent, true);
    return r.hits[0].info.isDirectory;
  }

  /** Makes directory `path` (and its parents) exist in the upper layer, as the overlay shows it. */
  async #upperDir(path: string): Promise<void> {
    const p = normalizePath(path);
    if (p === "/") return;
    const up = await lstatIn(this.upper, p);
    if (up && up.isDirectory) return;
    await this.#upperDir(p.slice(0, p.lastIndexOf("/")) || "/");
    const r = await this.find(p, false);
    const info = r.hits[0].info;
    if (!info.isDirectory) throw new NotADirectory("not a directory", p);
    if (up && isWhiteout(up)) await this.upper.remove(p, { permanent: true });
    await this.upper.mkdir(p, { mode: info.mode & 0o7777 });
    await this.#sameAttrs(p, r.hits[0]);
  }

  async #sameAttrs(path: string, hit: Hit): Promise<void> {
    const { info } = hit;
    await this.upper.chown(path, info.uid, info.gid);
    if (!info.isSymlink) {
      await this.upper.chmod(path, info.mode & 0o7777);
      await this.upper.utime(path, info.atime, info.mtime);
    }
    const fs = this.fsOf(hit);
    if (hasXattrs(fs) && hit.layer !== 0) {
      for (const name of await fs.listXattrs(path)) {
        await this.upper.setXattr(path, name, await fs.getXattr(path, name));
      }
    }
  }

  /** Copies entry `path` up from the lower layer that shows it (a directory with all it holds). */
  async #copyUp(r: Resolved): Promise<void> {
    const hit = r.hits[0];
    if (hit.layer === 0) return;
    const p = r.path;
    await this.#upperDir(p.slice(0, p.lastIndexOf("/")) || "/");
    const fs = this.fsOf(hit);
    const info = hit.info;
    if (info.isDirectory) {
      await this.#upperDir(p);
      for await (const e of this.readDirPlus(p)) {
        const child = joinPath(p, e.name);
        await this.#copyUp(await this.find(child, false));
      }
      return;
    }
    const up = await lstatIn(this.upper, p);
    if (up && isWhiteout(up)) await this.upper.remove(p, { permanent: true });
    if (info.isSymlink) await this.upper.symlink(await fs.readLink(p), p);
    else if (info.isFile) {
      const shared = await this.upper.shareFileFrom(fs, p);
      if (!shared) {
        const h = await fs.open(p, { read: true });
        await this.upper.writeFile(p, h.readable, { mode: info.mode & 0o7777 });
      }
    } else {
      await this.upper.mknod(p, specialOf(info)!);
    }
    await this.#sameAttrs(p, hit);
  }

  /** Before changing `path` (or making it): its parent in the upper layer, the entry copied up. */
  async #prepareWrite(path: string): Promise<void> {
    const p = normalizePath(path);
    const r = await this.#maybe(p, true);
    if (r) return await this.#copyUp(r);
    await this.#upperDir(p.slice(0, p.lastIndexOf("/")) || "/");
    const up = await lstatIn(this.upper, p);
    if (up && isWhiteout(up)) await this.upper.remove(p, { permanent: true });
  }

  /** True when a lower layer shows `path` under the upper layer. */
  async #lowerHas(path: string): Promise<boolean> {
    const below = this.stack.slice(1);
    if (below.length === 0) return false;
    try {
      await resolve(below, path, false);
      return true;
    } catch (e) {
      if (e instanceof NotFound || (e as Error).name === "NotADirectory") return false;
      throw e;
    }
  }

  async #whiteout(path: string): Promise<void> {
    await this.#upperDir(path.slice(0, path.lastIndexOf("/")) || "/");
    await this.upper.mknod(path, { kind: "charDevice", mode: 0, rdev: 0 });
  }

  // ---- writing --------------------------------------------------------------

  async writeFile(
    path: string,
    data: Uint8Array | ReadableStream<Uint8Array>,
    options: WriteFileOptions = {},
  ): Promise<void> {
    const r = await this.#maybe(path, true);
    if (r?.hits[0].info.isDirectory) throw new IsADirectory("is a directory", path);
    if (r && options.createNew) throw new AlreadyExists("file exists", path);
    if (!r && options.create === false) throw new NotFound("no such file", path);
    if (r && (options.append || options.offset !== undefined)) await this.#copyUp(r);
    else await this.#prepareWriteNoCopy(r?.path ?? path);
    await this.upper.writeFile(r?.path ?? path, data, options);
  }

  /** Like `#prepareWrite`, for a write that replaces the content: no need to copy it up. */
  async #prepareWriteNoCopy(path: string): Promise<void> {
    const p = normalizePath(path);
    await this.#upperDir(p.slice(0, p.lastIndexOf("/")) || "/");
    const up = await lstatIn(this.upper, p);
    if (up && isWhiteout(up)) await this.upper.remove(p, { permanent: true });
  }

  writeTextFile(path: string, text: string, options?: WriteFileOptions): Promise<void> {
    return this.writeFile(path, enc.encode(text), options);
  }

  async mkdir(path: string, options: MkdirOptions = {}): Promise<void> {
    const p = normalizePath(path);
    if (options.recursive) {
      const names = p.split("/").filter(Boolean);
      for (let i = 1; i <= names.length; i++) {
        const sub = "/" + names.slice(0, i).join("/");
        const r = await this.#maybe(sub, true);
        if (r && r.hits[0].info.isDirectory) continue;
        if (r) throw new AlreadyExists("not a directory", sub);
        await this.mkdir(sub, { mode: options.mode });
      }
      return;
    }
    if (await this.#maybe(p, false)) throw new AlreadyExists("file exists", p);
    await this.#upperDir(p.slice(0, p.lastIndexOf("/")) || "/");
    const up = await lstatIn(this.upper, p);
    const over = up !== null && isWhiteout(up);
    if (over) await this.upper.remove(p, { permanent: true });
    await this.upper.mkdir(p, { mode: options.mode });
    // Made where something below was removed: the lower directory stays hidden.
    if (over || (await this.#lowerHas(p))) await this.upper.setXattr(p, OPAQUE, "y");
  }

  async remove(path: string, options: RemoveOptions = {}): Promise<void> {
    const p = normalizePath(path);
    if (p === "/") throw new InvalidArgument("the volume root cannot be removed", p);
    const r = await this.find(p, false);
    const top = r.hits[0];
    if (top.info.isDirectory && !options.recursive) {
      for await (const _ of mergedEntries(this.stack, r)) {
        throw new NotEmpty("directory not empty", p);
      }
    }
    if (await lstatIn(this.upper, p)) await this.upper.remove(p, { ...options, recursive: true });
    if (await this.#lowerHas(p)) await this.#whiteout(p);
  }

  async rename(oldPath: string, newPath: string, options: RenameOptions = {}): Promise<void> {
    const from = normalizePath(oldPath);
    const to = normalizePath(newPath);
    const r = await this.find(from, false);
    if (from === to) return;
    const dest = await this.#maybe(to, false);
    if (dest && options.noReplace) throw new AlreadyExists("file exists", to);
    if (dest?.hits[0].info.isDirectory && r.hits[0].info.isDirectory) {
      for await (const _ of mergedEntries(this.stack, dest)) {
        throw new NotEmpty("directory not empty", to);
      }
    }
    await this.#copyUp(r);
    await this.#upperDir(to.slice(0, to.lastIndexOf("/")) || "/");
    const up = await lstatIn(this.upper, to);
    if (up && isWhiteout(up)) await this.upper.remove(to, { permanent: true });
    const hidesLower = await this.#lowerHas(to);
    await this.upper.rename(from, to, options);
    if (r.hits[0].info.isDirectory && hidesLower) await this.upper.setXattr(to, OPAQUE, "y");
    if (await this.#lowerHas(from)) await this.#whiteout(from);
  }

  async link(oldPath: string, newPath: string): Promise<void> {
    const r = await this.find(oldPath, false);
    await this.#copyUp(r);
    await this.#prepareWriteNoCopy(newPath);
    if (await this.#maybe(newPath, false)) throw new AlreadyExists("file exists", newPath);
    await this.upper.link(r.path, newPath);
  }

  async symlink(target: string, path: string): Promise<void> {
    if (await this.#maybe(path, false)) throw new AlreadyExists("file exists", path);
    await this.#prepareWriteNoCopy(path);
    await this.upper.symlink(target, path);
  }

  async mknod(path: string, options: MknodOptions): Promise<void> {
    if (await this.#maybe(path, false)) throw new AlreadyExists("file exists", path);
    await this.#prepareWriteNoCopy(path);
    await this.upper.mknod(path, options);
  }

  async truncate(path: string, len = 0): Promise<void> {
    await this.#prepareWrite(path);
    await this.upper.truncate(path, len);
  }

  async utime(path: string, atime: number | Date, mtime: number | Date): Promise<void> {
    await this.#prepareWrite(path);
    await this.upper.utime(path, atime, mtime);
  }

  async chmod(path: string, mode: number): Promise<void> {
    await this.#prepareWrite(path);
    await this.upper.chmod(path, mode);
  }

  async chown(path: string, uid: number | null, gid: number | null): Promise<void> {
    await this.#prepareWrite(path);
    await this.upper.chown(path, uid, gid);
  }

  async setXattr(
    path: string,
    name: string,
    value: Uint8Array | string,
    options?: XattrOptions,
  ): Promise<void> {
    await this.#prepareWrite(path);
    await this.upper.setXattr(path, name, value, options);
    this.roots = null;
  }

  async removeXattr(path: string, name: string): Promise<void> {
    await this.#prepareWrite(path);
    await this.upper.removeXattr(path, name);
    this.roots = null;
  }

  async copyFile(from: string, to: string): Promise<void> {
    const info = await this.stat(from);
    if (!info.isFile) throw new IsADirectory("not a regular file", from);
    const h = await this.open(from, "r");
    await this.writeFile(to, h.readable, { mode: info.mode & 0o7777 });
  }

  async copy(from: string, to: string, options: CopyOptions = {}): Promise<void> {
    const info = await this.lstat(from);
    if (await this.#maybe(to, false)) {
      if (!options.overwrite) throw new AlreadyExists("destination exists", to);
      await this.remove(to, { recursive: true });
    }
    if (info.isDirectory) {
      await this.mkdir(to, { mode: info.mode & 0o7777 });
      for await (const e of this.readDir(from)) {
        await this.copy(joinPath(from, e.name), joinPath(to, e.name), options);
      }
    } else if (info.isSymlink) await this.symlink(await this.readLink(from), to);
    else await this.copyFile(from, to);
  }

  /** Runs `fn` as one transaction of the upper layer. */
  batch<T>(fn: (fs: this) => Promise<T> | T): Promise<T> {
    return this.upper.batch(() => fn(this));
  }
}
