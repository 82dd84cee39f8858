/**
 * The layers of an overlay and its reading half: adding, removing, listing
 * and explaining layers, and every read resolved through them
 * (`overlay.ts` adds the writes).
 *
 * @module
 */

import { AlreadyExists, InvalidArgument, NoAttribute, NotADirectory, NotFound } from "../errors.ts";
import { normalizePath } from "../paths.ts";
import { Store } from "../store/store.ts";
import type {
  DirEntry,
  DirEntryPlus,
  FileInfo,
  VolumeInfo,
  WalkEntry,
  WalkOptions,
} from "../types.ts";
import { type ByNode, type FileSystem, hasXattrs } from "../volume/api.ts";
import { PathNodes } from "../volume/path_nodes.ts";
import type { Volume } from "../volume/volume.ts";
import { existsIn, glob, walk } from "../volume/walk.ts";
import {
  type Hit,
  isWhiteout,
  type Layer,
  lstatIn,
  mergedEntries,
  resolve,
  type Resolved,
  rootHits,
} from "./layers.ts";

/** A lower layer to add: a file system (a volume, a snapshot), or a store file opened read-only. */
export type LayerSource = FileSystem | string;

/** A layer as `Overlay.layers()` lists it. */
export interface LayerInfo {
  name: string;
  priority: number;
  /** The store file it lives in, when known. */
  path: string | null;
  writable: boolean;
}

/** Options of {@linkcode Overlay.open}. */
export interface OverlayOptions {
  /** The writable layer. */
  upper: Volume;
  /** Read-only layers, highest priority first (or with `priority` via `addLayer`). */
  lowers?: (LayerSource | { source: LayerSource; name?: string; priority?: number })[];
}

/**
 * The layers of an overlay and its reads; see {@linkcode Overlay}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Overlay, Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * await using view = await Overlay.open({ upper: await store.volume() });
 * assert((await view.stat("/")).isDirectory);
 * ```
 */
export abstract class LayerStack implements ByNode {
  protected readonly upper: Volume;
  protected stack: Layer[];
  /** Operations by node id (an inode table over paths), for the kernel mount. */
  readonly nodes: PathNodes = new PathNodes(this as unknown as FileSystem);
  /** The layers whose root takes part (all, down to an opaque root); null: look again. */
  protected roots: number[] | null = null;

  protected constructor(upper: Volume, path: string | null) {
    this.upper = upper;
    this.stack = [{ name: "upper", priority: Infinity, fs: upper, path, writable: true }];
  }

  // ---- layers ---------------------------------------------------------------

  /**
   * Adds a read-only layer below the upper one: a file system, or the path
   * of a store file (its volume `volume`, default "default", opened
   * read-only; the overlay closes it). A higher `priority` is searched
   * first. Refuses a store that is the upper one's, and names taken.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Overlay, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * await using view = await Overlay.open({ upper: await store.volume() });
   * const dlc = await store.createVolume("dlc");
   * await view.addLayer(dlc, { name: "dlc", priority: 10 });
   * assert((await view.layers()).map((l) => l.name).join() === "upper,dlc");
   * ```
   */
  async addLayer(
    source: LayerSource,
    options: { name?: string; priority?: number; volume?: string } = {},
  ): Promise<void> {
    const priority = options.priority ?? 0;
    if (!Number.isFinite(priority)) throw new InvalidArgument("a layer's priority is a number");
    const layer = typeof source === "string" ? await this.#openStoreLayer(source, options) : {
      name: options.name ?? source.name,
      priority,
      fs: source,
      path: (source as Partial<Volume>).storePath ?? null,
      writable: false,
    };
    layer.priority = priority;
    if (this.stack.some((l) => l.name === layer.name)) {
      await layer.close?.();
      throw new AlreadyExists("a layer of this name exists", layer.name);
    }
    if (layer.fs === this.upper) {
      throw new InvalidArgument("the upper layer cannot also be a lower one");
    }
    this.stack = [this.stack[0], ...this.stack.slice(1), layer]
      .sort((a, b) => b.priority - a.priority);
    this.roots = null;
  }

  async #openStoreLayer(
    path: string,
    options: { name?: string; volume?: string },
  ): Promise<Layer> {
    const upperPath = this.stack[0].path;
    if (upperPath !== null && (await same(path, upperPath))) {
      throw new InvalidArgument("a lower layer cannot be the upper layer's own store", path);
    }
    const store = await Store.open(path, { readOnly: true });
    try {
      const fs = await store.volume(options.volume ?? "default", { readOnly: true });
      return {
        name: options.name ?? path.replace(/^.*\//, "").replace(/\.[^.]*$/, ""),
        priority: 0,
        fs,
        path,
        writable: false,
        close: () => store.close(),
      };
    } catch (e) {
      await store.close();
      throw e;
    }
  }

  /**
   * Removes lower layer `name` (closing the store it opened); the upper
   * layer cannot be removed.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Overlay, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const base = await store.createVolume("base");
   * await using view = await Overlay.open({ upper: await store.volume(), lowers: [base] });
   * await view.removeLayer("base");
   * await assert.rejects(() => view.removeLayer("upper"));
   * ```
   */
  async removeLayer(name: string): Promise<void> {
    const i = this.stack.findIndex((l) => l.name === name);
    if (i < 0) throw new NotFound("no such layer", name);
    if (this.stack[i].writable) {
      throw new InvalidArgument("the upper layer cannot be removed", name);
    }
    const [gone] = this.stack.splice(i, 1);
    this.roots = null;
    await gone.close?.();
  }

  /**
   * The layers, searched in this order.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Overlay, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * await using view = await Overlay.open({ upper: await store.volume() });
   * const [upper] = await view.layers();
   * assert(upper.writable && upper.name === "upper");
   * ```
   */
  layers(): Promise<LayerInfo[]> {
    return Promise.resolve(this.stack.map(({ name, priority, path, writable }) => ({
      name,
      priority,
      path,
      writable,
    })));
  }

  /**
   * The name of the layer that serves `path`; `NotFound` if none does.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Overlay, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const base = await store.createVolume("base");
   * await base.writeTextFile("/a", "a");
   * await using view = await Overlay.open({ upper: await store.volume(), lowers: [base] });
   * assert((await view.whichLayer("/a")) === "base");
   * ```
   */
  async whichLayer(path: string): Promise<string> {
    const r = await resolve(this.stack, path, false);
    return this.stack[r.hits[0].layer].name;
  }

  /**
   * Every layer that holds `path` (whether or not it shows), in search
   * order, and the one that wins (null when a whiteout hides them all).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Overlay, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const base = await store.createVolume("base");
   * await base.writeTextFile("/a", "a");
   * await using view = await Overlay.open({ upper: await store.volume(), lowers: [base] });
   * await view.writeTextFile("/a", "b");
   * const d = await view.whichLayerDetailed("/a");
   * assert(d.winner === "upper" && d.layers.map((l) => l.name).join() === "upper,base");
   * ```
   */
  async whichLayerDetailed(path: string): Promise<{
    winner: string | null;
    layers: { name: string; kind: string; whiteout: boolean }[];
  }> {
    const p = normalizePath(path);
    const layers = [];
    for (const l of this.stack) {
      const info = await lstatIn(l.fs, p);
      if (!info) continue;
      const kind = info.isDirectory
        ? "directory"
        : info.isSymlink
        ? "symlink"
        : info.isFile
        ? "file"
        : "special";
      layers.push({ name: l.name, kind, whiteout: isWhiteout(info) });
    }
    let winner: string | null = null;
    try {
      winner = await this.whichLayer(p);
    } catch (e) {
      if (!(e instanceof NotFound)) throw e;
    }
    return { winner, layers };
  }

  /**
   * Closes the stores the overlay opened for its layers.
   *
   * @example
   * ```ts
   * import { Overlay, Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const view = await Overlay.open({ upper: await store.volume() });
   * await view.close();
   * ```
   */
  async close(): Promise<void> {
    for (const l of this.stack) await l.close?.();
    this.stack = this.stack.filter((l) => !l.close);
  }

  /** Closes the stores the overlay opened. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- reading ------------------------------------------------------------

  /** The upper volume's name. */
  get name(): string {
    return this.upper.name;
  }

  /** False: the upper layer takes writes (unless it was opened read-only). */
  get readOnly(): boolean {
    return this.upper.readOnly;
  }

  /** The upper volume's chunk size. */
  get chunkSize(): number {
    return this.upper.chunkSize;
  }

  protected async find(path: string, follow: boolean): Promise<Resolved> {
    this.roots ??= (await rootHits(this.stack)).map((h) => h.layer);
    return await resolve(this.stack, path, follow, this.roots);
  }

  protected fsOf(hit: Hit): FileSystem {
    return this.stack[hit.layer].fs;
  }

  /** A layer's info with an inode number unique across layers. */
  protected infoOf(hit: Hit): FileInfo {
    return { ...hit.info, ino: hit.info.ino * 16 + Math.min(hit.layer, 15), dev: this.upper.id };
  }

  async stat(path: string): Promise<FileInfo> {
    return this.infoOf((await this.find(path, true)).hits[0]);
  }

  async lstat(path: string): Promise<FileInfo> {
    return this.infoOf((await this.find(path, false)).hits[0]);
  }

  exists(
    path: string,
    options: { isFile?: boolean; isDirectory?: boolean } = {},
  ): Promise<boolean> {
    return existsIn(this, path, options);
  }

  async readFile(path: string, options?: { signal?: AbortSignal }): Promise<Uint8Array> {
    const r = await this.find(path, true);
    return await this.fsOf(r.hits[0]).readFile(r.path, options);
  }

  async statAndRead(
    path: string,
    options: { maxBytes: number },
  ): Promise<{ info: FileInfo; data: Uint8Array | null }> {
    const r = await this.find(path, true);
    const hit = r.hits[0];
    const { info, data } = await this.fsOf(hit).statAndRead(r.path, options);
    return { info: this.infoOf({ layer: hit.layer, info }), data };
  }

  async readTextFile(path: string, options?: { signal?: AbortSignal }): Promise<string> {
    return new TextDecoder().decode(await this.readFile(path, options));
  }

  async *readDir(path: string): AsyncIterableIterator<DirEntry> {
    for await (const e of this.readDirPlus(path)) {
      yield {
        name: e.name,
        isFile: e.isFile,
        isDirectory: e.isDirectory,
        isSymlink: e.isSymlink,
        ino: e.ino,
      };
    }
  }

  async *readDirPlus(
    path: string,
    options: { xattrs?: boolean } = {},
  ): AsyncIterableIterator<DirEntryPlus> {
    const dir = await this.find(path, true);
    if (!dir.hits[0].info.isDirectory) throw new NotADirectory("not a directory", path);
    for await (const e of mergedEntries(this.stack, dir, options)) {
      const info = this.infoOf({ layer: e.layer, info: e.info });
      yield { ...e, ino: info.ino, info };
    }
  }

  async statPlus(
    path: string,
    options: { follow?: boolean } = {},
  ): Promise<{ info: FileInfo; xattrs: Map<string, Uint8Array> }> {
    const r = await this.find(path, options.follow ?? true);
    const fs = this.fsOf(r.hits[0]);
    const { xattrs } = await fs.statPlus(r.path, { follow: false });
    return { info: this.infoOf(r.hits[0]), xattrs };
  }

  async readLink(path: string): Promise<string> {
    const r = await this.find(path, false);
    return await this.fsOf(r.hits[0]).readLink(r.path);
  }

  async realPath(path: string): Promise<string> {
    return (await this.find(path, true)).path;
  }

  walk(root = "/", options: WalkOptions = {}): AsyncIterableIterator<WalkEntry> {
    return walk(this, root, options);
  }

  glob(
    pattern: string,
    options: { includeDirs?: boolean; root?: string } = {},
  ): AsyncIterableIterator<WalkEntry> {
    return glob(this, pattern, options);
  }

  usage(): Promise<{ used: number; capacity: number | null }> {
    return this.upper.usage();
  }

  info(): Promise<VolumeInfo> {
    return this.upper.info();
  }

  async getXattr(path: string, name: string): Promise<Uint8Array> {
    const r = await this.find(path, true);
    const fs = this.fsOf(r.hits[0]);
    if (!hasXattrs(fs)) throw new NoAttribute("no such attribute", name);
    return await fs.getXattr(r.path, name);
  }

  async listXattrs(path: string): Promise<string[]> {
    const r = await this.find(path, true);
    const fs = this.fsOf(r.hits[0]);
    return hasXattrs(fs) ? await fs.listXattrs(r.path) : [];
  }
}

/** True when two paths name the same file. */
async function same(a: string, b: string): Promise<boolean> {
  try {
    const [x, y] = await Promise.all([Deno.stat(a), Deno.stat(b)]);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}
