/**
 * The volume: a file tree in a store, shaped like Deno's own file API, plus
 * what a vault needs — versions, trees, batches, extended attributes,
 * statistics, a change feed — and operations by node id (`vol.nodes`) for
 * the kernel mount. It implements the {@linkcode FileSystem} the front ends
 * use, with every optional capability.
 *
 * @module
 */

import { chunkTotals } from "../chunks/pool.ts";
import type { ChunkCodec } from "../chunks/codec.ts";
import { FileContent } from "../content/file_content.ts";
import {
  countVersions,
  listVersions,
  restoreVersion,
  setKeep,
  usageOf,
} from "../content/versions.ts";
import type { Core } from "../core/core.ts";
import {
  AlreadyExists,
  InvalidArgument,
  IsADirectory,
  NotADirectory,
  NotFound,
  withPath,
} from "../errors.ts";
import { type ChangeRecord, readChanges } from "../feed/feed.ts";
import { Locks } from "../locks/locks.ts";
import { splitPath } from "../paths.ts";
import { Kind } from "../tree/nodes.ts";
import type { Tree } from "../tree/tree.ts";
import type {
  CopyOptions,
  DirEntry,
  DirEntryPlus,
  FileInfo,
  MkdirOptions,
  OpenMode,
  OpenOptions,
  RemoveOptions,
  RenameOptions,
  VersionInfo,
  VolumeInfo,
  WalkEntry,
  WalkOptions,
  WriteFileOptions,
  XattrOptions,
} from "../types.ts";
import type {
  ByNode,
  ChangeSource,
  ExtendedAttributes,
  FileSystem,
  Lockable,
  Versioned,
} from "./api.ts";
import { openMode, toNs, VolumeContext } from "./context.ts";
import { copyFileContent, copyTree } from "./copy.ts";
import type { FileHandle } from "./handle.ts";
import { NodeApi } from "./nodes.ts";
import { glob, walk } from "./walk.ts";
import { writeFile } from "./write.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PAGE = 512;

/**
 * A file tree in a store. Get one from `Store.volume`.
 *
 * @example
 * ```ts
 * import { Store } from "../../mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".trove" });
 * await Deno.remove(path);
 * await using store = await Store.open(path, { create: true });
 * const vol = await store.volume();
 * await vol.writeTextFile("/hello.txt", "hi");
 * console.assert((await vol.stat("/hello.txt")).size === 2);
 * await Deno.remove(path);
 * ```
 */
export class Volume
  implements FileSystem, Versioned, Lockable, ExtendedAttributes, ByNode, ChangeSource {
  readonly #ctx: VolumeContext;
  /** Operations by node id, for callers such as the kernel mount. */
  readonly nodes: NodeApi;
  /** Advisory locks on paths (WebDAV locks), kept in the store. */
  readonly locks: Locks;

  /** @internal Volumes come from `Store.volume` and `Store.createVolume`. */
  constructor(core: Core, options: { tree: Tree; codec: ChunkCodec; readOnly: boolean }) {
    this.#ctx = new VolumeContext(core, options);
    const tree = options.tree;
    this.nodes = new NodeApi(this.#ctx);
    this.locks = new Locks(core, {
      volume: tree.vol.id,
      meta: tree.meta,
      assertWritable: () => this.#ctx.assertWritable(),
    });
  }

  /** The volume's name. */
  get name(): string {
    return this.#ctx.tree.vol.name;
  }

  /** The volume's id (`FileInfo.dev`). */
  get id(): number {
    return this.#ctx.tree.vol.id;
  }

  /** True when writes are refused with `ReadOnly`. */
  get readOnly(): boolean {
    return this.#ctx.readOnly;
  }

  /** Chunk size of new content, in bytes. */
  get chunkSize(): number {
    return this.#ctx.tree.vol.chunkSize;
  }

  // ---- reading ----------------------------------------------------------

  /** Metadata of the file at `path`, following symlinks. */
  stat(path: string): Promise<FileInfo> {
    return this.#ctx.read((t) => this.#ctx.infoOf(t.existing(path, true)));
  }

  /** Metadata of the entry at `path` itself (a symlink is not followed). */
  lstat(path: string): Promise<FileInfo> {
    return this.#ctx.read((t) => this.#ctx.infoOf(t.existing(path, false)));
  }

  /** True when `path` exists (and is a file or a directory when asked). */
  async exists(
    path: string,
    options: { isFile?: boolean; isDirectory?: boolean } = {},
  ): Promise<boolean> {
    try {
      const info = await this.stat(path);
      if (options.isFile && !info.isFile) return false;
      if (options.isDirectory && !info.isDirectory) return false;
      return true;
    } catch (e) {
      if (e instanceof NotFound || e instanceof NotADirectory) return false;
      throw e;
    }
  }

  /** The whole content of a file. */
  async readFile(path: string, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    options.signal?.throwIfAborted();
    const n = await this.#ctx.read((t) => t.existing(path, true));
    if (n.kind === Kind.Dir) throw new IsADirectory("is a directory", path);
    // The size comes from the same snapshot as the content (inside `read`).
    const whole = Number.MAX_SAFE_INTEGER;
    const { tree, codec } = this.#ctx;
    try {
      const content = this.#ctx.shared(n.id) ??
        new FileContent(tree, { codec, node: n.id, mode: "isolated" });
      return await content.read(0, whole);
    } catch (e) {
      throw withPath(e, path);
    }
  }

  /** The content of a file as UTF-8 text. */
  async readTextFile(path: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    return decoder.decode(await this.readFile(path, options));
  }

  /** The entries of a directory, in pages so huge directories stream. */
  async *readDir(path: string): AsyncIterableIterator<DirEntry> {
    const dir = await this.#ctx.read((t) => t.existing(path, true));
    if (dir.kind !== Kind.Dir) throw new NotADirectory("not a directory", path);
    let after: Uint8Array | null = null;
    while (true) {
      const page = await this.#ctx.read((t) => t.listPage(dir.id, after, PAGE));
      for (const { entry } of page) yield entry;
      if (page.length < PAGE) return;
      after = page[page.length - 1].key;
    }
  }

  /**
   * Entries with their metadata (and, with `xattrs`, their extended
   * attributes): a query or two per page of entries, not one per entry.
   */
  async *readDirPlus(
    path: string,
    options: { xattrs?: boolean } = {},
  ): AsyncIterableIterator<DirEntryPlus> {
    const dir = await this.#ctx.read((t) => t.existing(path, true));
    if (dir.kind !== Kind.Dir) throw new NotADirectory("not a directory", path);
    yield* this.nodes.readDirPlus(dir.id, options);
  }

  /** Metadata and extended attributes of the entry at `path`, in one read. */
  statPlus(path: string, options: { follow?: boolean } = {}): Promise<{
    info: FileInfo;
    xattrs: Map<string, Uint8Array>;
  }> {
    return this.#ctx.read((t) => {
      const n = t.existing(path, options.follow ?? true);
      return { info: this.#ctx.infoOf(n), xattrs: t.xattrs.of([n.id]).get(n.id) ?? new Map() };
    });
  }

  /** The target of a symlink. */
  readLink(path: string): Promise<string> {
    return this.#ctx.read((t) => {
      const n = t.existing(path, false);
      if (n.kind !== Kind.Symlink) throw new InvalidArgument("not a symlink", path);
      return t.target(n);
    });
  }

  /** The canonical path of `path` with every symlink resolved. */
  realPath(path: string): Promise<string> {
    return this.#ctx.read((t) => t.pathOf(t.existing(path, true).id));
  }

  // ---- writing ----------------------------------------------------------

  /**
   * Opens a file, like `Deno.open`, or with a Python-style mode string.
   *
   * @example
   * ```ts
   * import { Store } from "../../mod.ts";
   * const path = await Deno.makeTempFile({ suffix: ".trove" });
   * await Deno.remove(path);
   * await using store = await Store.open(path, { create: true });
   * const vol = await store.volume();
   * {
   *   await using f = await vol.open("/log.txt", "a+");
   *   await f.write(new TextEncoder().encode("line\n"));
   * }
   * console.assert((await vol.readTextFile("/log.txt")) === "line\n");
   * await Deno.remove(path);
   * ```
   */
  async open(path: string, options?: OpenOptions | OpenMode): Promise<FileHandle> {
    const mode = openMode(options);
    const ctx = this.#ctx;
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

  /** Creates a file open for writing, truncating an existing one. */
  create(path: string): Promise<FileHandle> {
    return this.open(path, "w+");
  }

  /**
   * Writes a whole file, replacing its content in one step: readers see the
   * old content until the new one commits. `data` may be a stream.
   *
   * @example
   * ```ts
   * import { Store } from "../../mod.ts";
   * const path = await Deno.makeTempFile({ suffix: ".trove" });
   * await Deno.remove(path);
   * await using store = await Store.open(path, { create: true });
   * const vol = await store.volume();
   * await vol.writeFile("/a.bin", new Uint8Array([1, 2, 3]));
   * console.assert((await vol.readFile("/a.bin")).length === 3);
   * await Deno.remove(path);
   * ```
   */
  writeFile(
    path: string,
    data: Uint8Array | ReadableStream<Uint8Array>,
    options: WriteFileOptions = {},
  ): Promise<void> {
    return writeFile(this.#ctx, path, data, options);
  }

  /** Writes a whole file from a string, as UTF-8. */
  writeTextFile(path: string, text: string, options: WriteFileOptions = {}): Promise<void> {
    return this.writeFile(path, encoder.encode(text), options);
  }

  /** Creates a directory (and its missing parents with `recursive`). */
  async mkdir(path: string, options: MkdirOptions = {}): Promise<void> {
    await this.#ctx.write((t) => {
      const names = splitPath(path);
      const kind = Kind.Dir;
      if (!options.recursive) {
        const r = t.resolve(path, true);
        if (r.node || !r.dir) throw new AlreadyExists("file exists", path);
        t.entries.create(r.dir, r.name!, { kind, mode: options.mode });
        return;
      }
      let dir = t.node(t.root);
      for (const name of names) {
        const child = t.lookup(dir, name);
        if (child && child.kind === Kind.Symlink) {
          dir = t.existing(t.pathOf(dir.id) + "/" + name, true);
        } else if (child) {
          dir = child;
        } else {
          dir = t.node(t.entries.create(dir, name, { kind, mode: options.mode }));
          continue;
        }
        if (dir.kind !== Kind.Dir) throw new AlreadyExists("not a directory", path);
      }
    });
  }

  /** Removes a file, symlink or empty directory; a whole tree with `recursive`. */
  async remove(path: string, options: RemoveOptions = {}): Promise<void> {
    await this.#ctx.write((t) => {
      const r = t.resolve(path, false);
      if (!r.node) throw new NotFound("no such file or directory", path);
      if (!r.dir) throw new InvalidArgument("the volume root cannot be removed", path);
      if (r.node.kind !== Kind.Dir) t.entries.unlink(r.dir, r.name!);
      else if (options.recursive) t.entries.removeTree(r.dir, r.name!);
      else t.entries.rmdir(r.dir, r.name!);
    });
  }

  /** Renames or moves an entry, replacing the destination as POSIX does. */
  async rename(oldPath: string, newPath: string, options: RenameOptions = {}): Promise<void> {
    await this.#ctx.write((t) => {
      const from = t.resolve(oldPath, false);
      if (!from.node) throw new NotFound("no such file or directory", oldPath);
      const to = t.resolve(newPath, false);
      if (!from.dir || !to.dir) throw new InvalidArgument("cannot rename the volume root");
      t.entries.rename(
        { dir: from.dir, name: from.name! },
        { dir: to.dir, name: to.name! },
        options,
      );
    });
  }

  /** Creates a hard link `newPath` to the file at `oldPath`. */
  async link(oldPath: string, newPath: string): Promise<void> {
    await this.#ctx.write((t) => {
      const n = t.existing(oldPath, false);
      const to = t.resolve(newPath, false);
      if (to.node || !to.dir) throw new AlreadyExists("file exists", newPath);
      t.entries.link(n, { dir: to.dir, name: to.name! });
    });
  }

  /** Creates a symlink at `path` pointing to `target`. */
  async symlink(target: string, path: string): Promise<void> {
    await this.#ctx.write((t) => {
      const r = t.resolve(path, false);
      if (r.node || !r.dir) throw new AlreadyExists("file exists", path);
      t.entries.create(r.dir, r.name!, { kind: Kind.Symlink, target });
    });
  }

  /** Sets a file's size (default 0), as a new version. */
  async truncate(path: string, len = 0): Promise<void> {
    const n = await this.#ctx.read((t) => t.existing(path, true));
    const f = await this.#ctx.openContent(n, openMode({ write: true }), path);
    try {
      await f.truncate(len);
    } finally {
      await f.close();
    }
  }

  /** Sets access and modification times (seconds since the epoch, or Dates). */
  async utime(path: string, atime: number | Date, mtime: number | Date): Promise<void> {
    const a = toNs(atime);
    const m = toNs(mtime);
    const n = await this.#ctx.read((t) => t.existing(path, true));
    await this.nodes.setAttributes(n.id, { atime: a, mtime: m });
  }

  /** Sets permission bits. */
  async chmod(path: string, mode: number): Promise<void> {
    const n = await this.#ctx.read((t) => t.existing(path, true));
    await this.nodes.setAttributes(n.id, { mode });
  }

  /** Sets the owner. */
  async chown(path: string, uid: number | null, gid: number | null): Promise<void> {
    const n = await this.#ctx.read((t) => t.existing(path, true));
    await this.nodes.setAttributes(n.id, { uid: uid ?? undefined, gid: gid ?? undefined });
  }

  /** Copies a file's content (sharing every chunk) and permissions. */
  async copyFile(from: string, to: string): Promise<void> {
    await this.#ctx.write((t) => copyFileContent(t, from, to));
  }

  /**
   * Copies a file or a whole tree in one transaction. Content is shared, so
   * a copy costs no content bytes however large the tree.
   */
  async copy(from: string, to: string, options: CopyOptions = {}): Promise<void> {
    await this.#ctx.write((t) => copyTree(t, from, to, options));
  }

  // ---- trees ------------------------------------------------------------

  /** Walks a tree depth-first, like the standard library's `walk`. */
  walk(root = "/", options: WalkOptions = {}): AsyncIterableIterator<WalkEntry> {
    return walk(this, root, options);
  }

  /** Paths matching a glob (`*`, `**`, `?`, `[...]`, `{a,b}`). */
  glob(
    pattern: string,
    options: { includeDirs?: boolean; root?: string } = {},
  ): AsyncIterableIterator<WalkEntry> {
    return glob(this, pattern, options);
  }

  /**
   * Runs `fn` as one atomic transaction: every change it makes commits
   * together, or none does if it throws. Other work on the store waits.
   *
   * @example
   * ```ts
   * import { Store } from "../../mod.ts";
   * const path = await Deno.makeTempFile({ suffix: ".trove" });
   * await Deno.remove(path);
   * await using store = await Store.open(path, { create: true });
   * const vol = await store.volume();
   * try {
   *   await vol.batch(async () => {
   *     await vol.writeTextFile("/a", "1");
   *     throw new Error("changed my mind");
   *   });
   * } catch { /* rolled back *\/ }
   * console.assert(!(await vol.exists("/a")));
   * await Deno.remove(path);
   * ```
   */
  async batch<T>(fn: (volume: this) => Promise<T> | T): Promise<T> {
    this.#ctx.assertWritable();
    await this.#ctx.enter();
    return await this.#ctx.core.batch(() => fn(this));
  }

  // ---- versions ---------------------------------------------------------

  /** The stored versions of a file, newest first. */
  versions(path: string): Promise<VersionInfo[]> {
    return this.#ctx.read((t) => {
      const n = t.existing(path, true);
      if (n.kind !== Kind.File) throw new IsADirectory("not a regular file", path);
      return listVersions(t, n);
    });
  }

  /** Makes an old version current again, as a new version (so it can be undone). */
  async restore(path: string, version: number): Promise<number> {
    return await this.#ctx.write((t) => restoreVersion(t, t.existing(path, true), version, path));
  }

  /**
   * Sets how many versions a file, or every file below a directory, keeps
   * (null: inherit). The volume's setting applies where none is set.
   */
  async setRetention(path: string, keep: number | null): Promise<void> {
    if (keep !== null && (!Number.isSafeInteger(keep) || keep < 1)) {
      throw new InvalidArgument("a file keeps at least one version");
    }
    await this.#ctx.write((t) => setKeep(t, t.existing(path, true), keep));
  }

  // ---- extended attributes ----------------------------------------------

  /** The value of an extended attribute; `NoAttribute` if unset. */
  getXattr(path: string, name: string): Promise<Uint8Array> {
    return this.#ctx.read((t) => t.xattrs.get(t.existing(path, true), name));
  }

  /** Sets an extended attribute. */
  async setXattr(
    path: string,
    name: string,
    value: Uint8Array | string,
    options: XattrOptions = {},
  ): Promise<void> {
    const v = typeof value === "string" ? encoder.encode(value) : value;
    await this.#ctx.write((t) => t.xattrs.set(t.existing(path, true), { name, value: v }, options));
  }

  /** Removes an extended attribute; `NoAttribute` if unset. */
  async removeXattr(path: string, name: string): Promise<void> {
    await this.#ctx.write((t) => t.xattrs.remove(t.existing(path, true), name));
  }

  /** Names of the extended attributes set on a file. */
  listXattrs(path: string): Promise<string[]> {
    return this.#ctx.read((t) => t.xattrs.list(t.existing(path, true)));
  }

  // ---- the change feed --------------------------------------------------

  /**
   * Every commit that changed this volume after `since` (a `seq` from an
   * earlier record; default 0: all the store keeps), oldest first. See
   * `ChangeRecord` for what each says and how long the store keeps them.
   *
   * @example
   * ```ts
   * import { Store } from "../../mod.ts";
   * const path = await Deno.makeTempFile({ suffix: ".trove" });
   * await Deno.remove(path);
   * await using store = await Store.open(path, { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/a.txt", "a");
   * const kinds: string[] = [];
   * for await (const c of vol.changes()) kinds.push(...c.kinds);
   * console.assert(kinds.includes("content") && kinds.includes("names"));
   * await Deno.remove(path);
   * ```
   */
  async *changes(options: { since?: number } = {}): AsyncIterableIterator<ChangeRecord> {
    let since = options.since ?? 0;
    while (true) {
      const page = await this.#ctx.read((t) => readChanges(t.db, t.vol.id, since, PAGE));
      yield* page;
      if (page.length < PAGE) return;
      since = page[page.length - 1].seq;
    }
  }

  // ---- statistics -------------------------------------------------------

  /** Stored bytes and capacity, cheaply (one row; see `info` for more). */
  usage(): Promise<{ used: number; capacity: number | null }> {
    return this.#ctx.read((t) => usageOf(t));
  }

  /** Counts, sizes, savings, capacity and utilisation of the volume. */
  info(): Promise<VolumeInfo> {
    return this.#ctx.read((t) => {
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
      };
    });
  }
}
