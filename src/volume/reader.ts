/**
 * The reading half of the volume API: metadata, content, listings, walks
 * and globs, extended attributes and statistics. A read-only view (a
 * snapshot) is a reader over its own tree.
 *
 * @module
 */

import { chunkTotals } from "../chunks/pool.ts";
import { FileContent } from "../content/file_content.ts";
import { readSmallFile } from "../content/small_read.ts";
import { countVersions, usageOf } from "../content/versions.ts";
import {
  AlreadyExists,
  InvalidArgument,
  IsADirectory,
  NotADirectory,
  withPath,
} from "../errors.ts";
import { Kind, type NodeRow } from "../tree/nodes.ts";
import type { Tree } from "../tree/tree.ts";
import type {
  DirEntry,
  DirEntryPlus,
  FileInfo,
  OpenMode,
  OpenOptions,
  VolumeInfo,
  WalkEntry,
  WalkOptions,
} from "../types.ts";
import { openMode, type VolumeContext } from "./context.ts";
import type { FileHandle } from "./handle.ts";
import { NodeApi } from "./nodes.ts";
import { copyInfo } from "./read_cache.ts";
import { existsIn, glob, walk } from "./walk.ts";

const decoder = new TextDecoder();
const PAGE = 512;

/**
 * The read calls of a volume, over a {@linkcode VolumeContext}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store } from "../../mod.ts";
 * await using store = await Store.open(":memory:", { create: true });
 * const vol = await store.volume(); // a Volume is a VolumeReader
 * assert((await vol.stat("/")).isDirectory);
 * ```
 */
export abstract class VolumeReader {
  /** @internal What this volume's calls share. */
  protected readonly ctx: VolumeContext;
  /** Operations by node id, for callers such as the kernel mount. */
  readonly nodes: NodeApi;

  /** @internal */
  constructor(ctx: VolumeContext) {
    this.ctx = ctx;
    this.nodes = new NodeApi(ctx);
  }

  /**
   * The volume's name.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * assert(vol.name === "default");
   * ```
   */
  get name(): string {
    return this.ctx.tree.vol.name;
  }

  /**
   * The volume's id (`FileInfo.dev`).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * assert((await vol.stat("/")).dev === vol.id);
   * ```
   */
  get id(): number {
    return this.ctx.tree.vol.id;
  }

  /**
   * True when writes are refused with `ReadOnly`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * assert(!vol.readOnly);
   * assert((await store.volume("default", { readOnly: true })).readOnly);
   * ```
   */
  get readOnly(): boolean {
    return this.ctx.readOnly;
  }

  /**
   * Chunk size of new content, in bytes.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * assert(vol.chunkSize === 128 << 10);
   * ```
   */
  get chunkSize(): number {
    return this.ctx.tree.vol.chunkSize;
  }

  /**
   * Metadata of the file at `path`, following symlinks.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "abc");
   * const info = await vol.stat("/a.txt");
   * assert(info.isFile && info.size === 3 && info.version === 1);
   * ```
   */
  stat(path: string): Promise<FileInfo> {
    return this.ctx.cachedRead(path, (kept) => copyInfo(kept.info), (t, keep) => {
      const n = t.existing(path, true);
      const info = this.ctx.infoOf(n);
      keep({ node: n.id, info: copyInfo(info) });
      return info;
    });
  }

  /**
   * Metadata of the entry at `path` itself (a symlink is not followed).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "abc");
   * await vol.symlink("a.txt", "/link");
   * assert((await vol.lstat("/link")).isSymlink && (await vol.stat("/link")).isFile);
   * ```
   */
  lstat(path: string): Promise<FileInfo> {
    return this.ctx.read((t) => this.ctx.infoOf(t.existing(path, false)));
  }

  /**
   * True when `path` exists (and is a file or a directory when asked).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/hello.txt", "hi");
   * assert(await vol.exists("/hello.txt", { isFile: true }));
   * assert(!(await vol.exists("/nope")));
   * ```
   */
  exists(
    path: string,
    options: { isFile?: boolean; isDirectory?: boolean } = {},
  ): Promise<boolean> {
    return existsIn(this, path, options);
  }

  /**
   * The whole content of a file.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeFile("/a.bin", new Uint8Array([1, 2, 3]));
   * assert((await vol.readFile("/a.bin"))[2] === 3);
   * ```
   */
  async readFile(path: string, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    options.signal?.throwIfAborted();
    // A small file not open here reads in the transaction that resolves it.
    const { id, small } = await this.ctx.cachedRead(
      path,
      (kept) => kept.data ? { id: kept.node, small: kept.data.slice() as Uint8Array } : undefined,
      (t, keep) => {
        const n = t.existing(path, true);
        if (n.kind === Kind.Dir) throw new IsADirectory("is a directory", path);
        if (n.kind !== Kind.File) throw new InvalidArgument("not a regular file", path);
        const small = this.#small(t, n, path);
        if (small) keep({ node: n.id, info: copyInfo(this.ctx.infoOf(n)), data: small.slice() });
        return { id: n.id, small };
      },
    );
    return small ?? await this.#whole(id, path);
  }

  /**
   * Metadata of `path` and, for a regular file of at most `maxBytes`, its
   * content: in the transaction that resolves the path when the file is
   * small and no handle of this process holds it, else read right after.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "abc");
   * const { info, data } = await vol.statAndRead("/a.txt", { maxBytes: 64 << 10 });
   * assert(info.size === 3 && data?.length === 3);
   * assert((await vol.statAndRead("/", { maxBytes: 64 << 10 })).data === null);
   * ```
   */
  async statAndRead(
    path: string,
    options: { maxBytes: number },
  ): Promise<{ info: FileInfo; data: Uint8Array | null }> {
    const r = await this.ctx.cachedRead(path, (kept) => {
      const wanted = kept.info.isFile && kept.info.size <= options.maxBytes;
      if (wanted && !kept.data) return undefined; // the bytes were not kept: read them
      const data: Uint8Array | null = wanted ? kept.data!.slice() : null;
      return { id: kept.node, info: copyInfo(kept.info), wanted, data };
    }, (t, keep) => {
      const n = t.existing(path, true);
      const info = this.ctx.infoOf(n);
      const wanted = n.kind === Kind.File && info.size <= options.maxBytes;
      const data = wanted ? this.#small(t, n, path) : null;
      keep({ node: n.id, info: copyInfo(info), data: data?.slice() });
      return { id: n.id, info, wanted, data };
    });
    const data = r.data ?? (r.wanted ? await this.#whole(r.id, path) : null);
    return { info: r.info, data };
  }

  /** A small file's committed content read in this transaction, or null (see `readSmallFile`). */
  #small(t: Tree, n: NodeRow, path: string): Uint8Array | null {
    try {
      return this.ctx.shared(n.id) ? null : readSmallFile(t, this.ctx.codec, n);
    } catch (e) {
      throw withPath(e, path);
    }
  }

  /** A file's whole content through its shared content, or a snapshot of it. */
  async #whole(node: number, path: string): Promise<Uint8Array> {
    const { tree, codec } = this.ctx;
    try {
      const content = this.ctx.shared(node) ??
        new FileContent(tree, { codec, node, mode: "isolated" });
      return await content.read(0, Number.MAX_SAFE_INTEGER);
    } catch (e) {
      throw withPath(e, path);
    }
  }

  /**
   * The content of a file as UTF-8 text.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "text");
   * assert((await vol.readTextFile("/a.txt")) === "text");
   * ```
   */
  async readTextFile(path: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    return decoder.decode(await this.readFile(path, options));
  }

  /**
   * The entries of a directory, in pages so huge directories stream.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.mkdir("/d");
   * await vol.writeTextFile("/d/x", "x");
   * const names: string[] = [];
   * for await (const e of vol.readDir("/d")) names.push(e.name);
   * assert(names.join() === "x");
   * ```
   */
  async *readDir(path: string): AsyncIterableIterator<DirEntry> {
    const dir = await this.ctx.read((t) => t.existing(path, true));
    if (dir.kind !== Kind.Dir) throw new NotADirectory("not a directory", path);
    let after: Uint8Array | null = null;
    while (true) {
      const page = await this.ctx.read((t) => t.listPage(dir.id, after, PAGE));
      for (const { entry } of page) yield entry;
      if (page.length < PAGE) return;
      after = page[page.length - 1].key;
    }
  }

  /**
   * Entries with their metadata (and, with `xattrs`, their extended
   * attributes): a query or two per page of entries, not one per entry.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.mkdir("/d");
   * await vol.writeTextFile("/d/x", "xyz");
   * for await (const e of vol.readDirPlus("/d")) assert(e.info.size === 3);
   * ```
   */
  async *readDirPlus(
    path: string,
    options: { xattrs?: boolean } = {},
  ): AsyncIterableIterator<DirEntryPlus> {
    const dir = await this.ctx.read((t) => t.existing(path, true));
    if (dir.kind !== Kind.Dir) throw new NotADirectory("not a directory", path);
    yield* this.nodes.readDirPlus(dir.id, options);
  }

  /**
   * Metadata and extended attributes of the entry at `path`, in one read.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "a");
   * await vol.setXattr("/a.txt", "user.tag", "blue");
   * const { info, xattrs } = await vol.statPlus("/a.txt");
   * assert(info.isFile && xattrs.has("user.tag"));
   * ```
   */
  statPlus(path: string, options: { follow?: boolean } = {}): Promise<{
    info: FileInfo;
    xattrs: Map<string, Uint8Array>;
  }> {
    return this.ctx.read((t) => {
      const n = t.existing(path, options.follow ?? true);
      return { info: this.ctx.infoOf(n), xattrs: t.xattrs.of([n.id]).get(n.id) ?? new Map() };
    });
  }

  /**
   * The target of a symlink.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.symlink("target.txt", "/link");
   * assert((await vol.readLink("/link")) === "target.txt");
   * ```
   */
  readLink(path: string): Promise<string> {
    return this.ctx.read((t) => {
      const n = t.existing(path, false);
      if (n.kind !== Kind.Symlink) throw new InvalidArgument("not a symlink", path);
      return t.target(n);
    });
  }

  /**
   * The canonical path of `path` with every symlink resolved.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.mkdir("/real");
   * await vol.symlink("real", "/link");
   * assert((await vol.realPath("/link")) === "/real");
   * ```
   */
  realPath(path: string): Promise<string> {
    return this.ctx.read((t) => t.pathOf(t.existing(path, true).id));
  }

  /**
   * Opens a file, like `Deno.open`, or with a Python-style mode string.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * const path = await Deno.makeTempFile({ suffix: ".trove" });
   * await Deno.remove(path);
   * await using store = await Store.open(path, { create: true });
   * const vol = await store.volume();
   * {
   *   await using f = await vol.open("/log.txt", "a+");
   *   await f.write(new TextEncoder().encode("line\n"));
   * }
   * assert((await vol.readTextFile("/log.txt")) === "line\n");
   * await Deno.remove(path);
   * ```
   */
  async open(path: string, options?: OpenOptions | OpenMode): Promise<FileHandle> {
    const mode = openMode(options);
    const ctx = this.ctx;
    if (mode.write) ctx.assertWritable(path);
    await ctx.enter();
    const { tree, core } = ctx;
    const n = mode.create || mode.createNew
      ? core.db.tx(() => {
        const r = tree.resolve(path, true);
        if (r.node) {
          if (mode.createNew) throw new AlreadyExists("file exists", path);
          return r.node;
        }
        if (!r.dir) throw new IsADirectory("is a directory", path);
        return tree.node(tree.entries.create(r.dir, r.name!, { kind: Kind.File, mode: mode.mode }));
      })
      : core.db.read(() => tree.existing(path, true));
    return await ctx.openContent(n, mode, path);
  }

  /**
   * Walks a tree depth-first, like the standard library's `walk`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.mkdir("/a/b", { recursive: true });
   * const paths: string[] = [];
   * for await (const e of vol.walk("/", { includeFiles: false })) paths.push(e.path);
   * assert(paths.join() === "/,/a,/a/b");
   * ```
   */
  walk(root = "/", options: WalkOptions = {}): AsyncIterableIterator<WalkEntry> {
    return walk(this, root, options);
  }

  /**
   * Paths matching a glob (`*`, `**`, `?`, `[...]`, `{a,b}`).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.md", "a");
   * await vol.writeTextFile("/b.txt", "b");
   * const found: string[] = [];
   * for await (const e of vol.glob("/**\/*.md")) found.push(e.path);
   * assert(found.join() === "/a.md");
   * ```
   */
  glob(
    pattern: string,
    options: { includeDirs?: boolean; root?: string } = {},
  ): AsyncIterableIterator<WalkEntry> {
    return glob(this, pattern, options);
  }

  /**
   * The value of an extended attribute; `NoAttribute` if unset.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "a");
   * await vol.setXattr("/a.txt", "user.color", "blue");
   * assert(new TextDecoder().decode(await vol.getXattr("/a.txt", "user.color")) === "blue");
   * ```
   */
  getXattr(path: string, name: string): Promise<Uint8Array> {
    return this.ctx.read((t) => t.xattrs.get(t.existing(path, true), name));
  }

  /**
   * Names of the extended attributes set on a file.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "a");
   * await vol.setXattr("/a.txt", "user.a", "1");
   * assert((await vol.listXattrs("/a.txt")).join() === "user.a");
   * ```
   */
  listXattrs(path: string): Promise<string[]> {
    return this.ctx.read((t) => t.xattrs.list(t.existing(path, true)));
  }

  /**
   * Stored bytes and capacity, cheaply (one row; see `info` for more).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "a");
   * const { used, capacity } = await vol.usage();
   * assert(used > 0 && capacity === null);
   * ```
   */
  usage(): Promise<{ used: number; capacity: number | null }> {
    return this.ctx.read((t) => usageOf(t));
  }

  /**
   * Counts, sizes, savings, capacity and utilisation of the volume.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Store } from "../../mod.ts";
   * await using store = await Store.open(":memory:", { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "hello");
   * await vol.writeTextFile("/b.txt", "hello");
   * const info = await vol.info();
   * assert(info.files === 2 && info.savedByDedup === 5);
   * ```
   */
  info(): Promise<VolumeInfo> {
    return this.ctx.read((t) => {
      const kinds = t.countByKind();
      const c = chunkTotals(t.db, t.vol.id);
      const capacity = usageOf(t).capacity;
      return {
        name: t.vol.name,
        files: kinds.get(Kind.File)?.n ?? 0,
        directories: kinds.get(Kind.Dir)?.n ?? 0,
        symlinks: kinds.get(Kind.Symlink)?.n ?? 0,
        logicalBytes: kinds.get(Kind.File)?.s ?? 0,
        referencedBytes: c.ref,
        uniqueBytes: c.uniq,
        storedBytes: c.stored,
        savedByDedup: c.ref - c.uniq,
        savedByCompression: c.uniq - c.stored,
        chunks: c.n,
        versions: countVersions(t),
        capacity,
        free: capacity === null ? null : Math.max(0, capacity - c.stored),
        utilisation: capacity === null ? null : capacity === 0 ? 1 : c.stored / capacity,
        snapshots: 0,
        snapshotBytes: 0,
        stats: this.ctx.core.statsOf(t.vol.id).snapshot(),
      };
    });
  }
}
