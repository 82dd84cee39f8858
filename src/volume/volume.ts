/**
 * The volume API: a file tree shaped like Deno's own file API, plus what a
 * vault needs (versions, trees, batches, extended attributes, statistics),
 * and {@linkcode NodeApi} for callers that work by node id (the kernel
 * mount). Front ends talk to this module and to nothing below it.
 *
 * @module
 */

import { hasChunk } from "../chunks/pool.ts";
import type { ChunkCodec } from "../chunks/codec.ts";
import {
  commitChunks,
  commitCopy,
  FileContent,
  INLINE_ENCODE_BYTES,
  MAX_FILE_SIZE,
  tooLarge,
} from "../content/file_content.ts";
import type { Core } from "../core/core.ts";
import { nowNs } from "../core/core.ts";
import {
  AlreadyExists,
  InvalidArgument,
  IsADirectory,
  NotADirectory,
  NotFound,
  ReadOnly,
  withPath,
} from "../errors.ts";
import { globBase, globToRegExp, isLiteralGlob } from "./glob.ts";
import { FileHandle, type HandleMode } from "./handle.ts";
import { Locks } from "../locks/locks.ts";
import { joinPath, normalizePath, splitPath } from "../paths.ts";
import { Kind } from "../db/schema.ts";
import type { CreateOptions, NodeRow, Tree } from "../tree/tree.ts";
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
  SetAttributes,
  VersionInfo,
  VolumeInfo,
  WalkEntry,
  WalkOptions,
  WriteFileOptions,
  XattrOptions,
} from "../types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PAGE = 512;

const MODES: Record<OpenMode, OpenOptions> = {
  "r": { read: true },
  "r+": { read: true, write: true },
  "w": { write: true, create: true, truncate: true },
  "w+": { read: true, write: true, create: true, truncate: true },
  "a": { append: true, create: true },
  "a+": { read: true, append: true, create: true },
  "x": { write: true, createNew: true },
  "x+": { read: true, write: true, createNew: true },
};

function toNs(t: number | Date): bigint {
  if (t instanceof Date) return BigInt(t.getTime()) * 1_000_000n;
  if (typeof t !== "number" || !Number.isFinite(t)) {
    throw new InvalidArgument("a time must be a Date or seconds since the epoch");
  }
  return BigInt(Math.round(t * 1e6)) * 1000n;
}

/** Validates open options the way Deno does, and fills in defaults. */
function openMode(options: OpenOptions | OpenMode | undefined): OpenOptions & HandleMode {
  let o: OpenOptions;
  if (typeof options === "string") {
    const m = MODES[options];
    if (!m) throw new InvalidArgument(`unknown open mode "${options}"`);
    o = m;
  } else {
    o = options ?? { read: true };
  }
  const write = !!(o.write || o.append);
  if ((o.create || o.createNew) && !write) {
    throw new InvalidArgument("'create' or 'createNew' needs 'write' or 'append'");
  }
  if (o.truncate && !o.write) throw new InvalidArgument("'truncate' needs 'write'");
  if (o.truncate && o.append) throw new InvalidArgument("'truncate' and 'append' conflict");
  const read = !!(o.read || (!write && o.read === undefined));
  if (!read && !write) throw new InvalidArgument("open needs 'read', 'write' or 'append'");
  return { ...o, read, write, append: !!o.append };
}

/** What a volume's API objects share: its store, namespace and codec. */
class VolumeContext {
  readonly core: Core;
  readonly tree: Tree;
  readonly codec: ChunkCodec;
  readonly readOnly: boolean;

  constructor(core: Core, tree: Tree, codec: ChunkCodec, readOnly: boolean) {
    this.core = core;
    this.tree = tree;
    this.codec = codec;
    this.readOnly = readOnly || core.readOnly;
  }

  async enter(): Promise<void> {
    if (this.core.closed) throw new InvalidArgument("the store is closed");
    await this.core.enter();
  }

  /** Runs `fn` as one consistent read. */
  async read<T>(fn: (tree: Tree) => T): Promise<T> {
    await this.enter();
    return this.core.db.read(() => fn(this.tree));
  }

  /** Runs `fn` in one write transaction. */
  async write<T>(fn: (tree: Tree) => T): Promise<T> {
    await this.enter();
    this.assertWritable();
    return this.core.db.tx(() => fn(this.tree));
  }

  /** Throws `ReadOnly` unless the volume takes writes. */
  assertWritable(path?: string): void {
    if (this.readOnly) throw new ReadOnly("the volume is read-only", path);
  }

  /** The public view of a node, uncommitted writes included. */
  infoOf(n: NodeRow): FileInfo {
    const info = this.tree.info(n);
    const c = this.core.contents.get(n.id) as FileContent | undefined;
    if (c && c.dirty) {
      info.size = c.size;
      info.blocks = Math.ceil(c.size / 512);
      const m = c.pendingMtime;
      if (m !== null) {
        info.mtimeNs = m;
        info.mtime = new Date(Number(m / 1_000_000n));
      }
    }
    return info;
  }

  /** The content of a node for a new handle. */
  contentFor(id: number, isolated: boolean, snapshot = false): FileContent {
    const core = this.core;
    if (!isolated && !snapshot) {
      const found = core.contents.get(id) as FileContent | undefined;
      if (found) return found;
    }
    if (snapshot) {
      // Not recorded in the store (a read should not write), but known to
      // this process, so an unlink here keeps the node until it closes.
      const c = new FileContent(this.tree, this.codec, id, false, true);
      core.isolated.add(c);
      return c;
    }
    const c = new FileContent(this.tree, this.codec, id, !isolated);
    if (isolated) core.isolated.add(c);
    else core.contents.set(id, c);
    return c;
  }

  /** Opens a handle on a file node. */
  async openContent(
    n: NodeRow,
    mode: OpenOptions & HandleMode,
    path: string,
  ): Promise<FileHandle> {
    if (n.kind === Kind.Dir) throw new IsADirectory("is a directory", path);
    if (n.kind !== Kind.File) throw new InvalidArgument("not a regular file", path);
    if (mode.write) this.assertWritable(path);
    if (mode.snapshot && mode.write) {
      throw new InvalidArgument("a snapshot handle is read-only", path);
    }
    const content = this.contentFor(n.id, !!mode.isolated, !!mode.snapshot);
    const handle = new FileHandle(content, mode, {
      path,
      statNode: (id) => this.read((t) => this.infoOf(t.node(id))),
    });
    try {
      if (!this.core.readOnly && !mode.snapshot) content.register();
      if (mode.truncate) await content.truncate(0);
    } catch (e) {
      await handle.discard();
      throw e;
    }
    return handle;
  }
}

/** A file tree in a store. Get one from `Store.volume`. */
export class Volume {
  readonly #ctx: VolumeContext;
  readonly #core: Core;
  readonly #tree: Tree;
  readonly #codec: ChunkCodec;
  /** Operations by node id, for callers such as the kernel mount. */
  readonly nodes: NodeApi;
  /** Advisory locks on paths (WebDAV locks), kept in the store. */
  readonly locks: Locks;

  /** @internal Volumes come from `Store.volume` and `Store.createVolume`. */
  constructor(core: Core, tree: Tree, codec: ChunkCodec, readOnly: boolean) {
    this.#ctx = new VolumeContext(core, tree, codec, readOnly);
    this.#core = core;
    this.#tree = tree;
    this.#codec = codec;
    this.nodes = new NodeApi(this.#ctx);
    this.locks = new Locks(core, tree.vol.id, tree.meta, () => this.#ctx.assertWritable());
  }

  /** The volume's name. */
  get name(): string {
    return this.#tree.vol.name;
  }

  /** The volume's id (`FileInfo.dev`). */
  get id(): number {
    return this.#tree.vol.id;
  }

  /** True when writes are refused with `ReadOnly`. */
  get readOnly(): boolean {
    return this.#ctx.readOnly;
  }

  /** Chunk size of new content, in bytes. */
  get chunkSize(): number {
    return this.#tree.vol.chunkSize;
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

  /**
   * True when `path` exists (and is a file or a directory when asked).
   *
   * @example
   * ```ts
   * import { Store } from "../../mod.ts";
   * const path = await Deno.makeTempFile({ suffix: ".trove" });
   * await Deno.remove(path);
   * await using store = await Store.open(path, { create: true });
   * const vol = await store.volume();
   * await vol.writeTextFile("/hello.txt", "hi");
   * console.assert(await vol.exists("/hello.txt", { isFile: true }));
   * await Deno.remove(path);
   * ```
   */
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
    const shared = this.#core.contents.get(n.id) as FileContent | undefined;
    try {
      if (shared) return await shared.read(0, whole);
      return await new FileContent(this.#tree, this.#codec, n.id, false).read(0, whole);
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
      return { info: this.#ctx.infoOf(n), xattrs: t.xattrsOf([n.id]).get(n.id) ?? new Map() };
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
    if (mode.write) this.#ctx.assertWritable(path);
    await this.#ctx.enter();
    const n = mode.create || mode.createNew
      ? this.#core.db.tx(() => {
        const r = this.#tree.resolve(path, true);
        if (r.node) {
          if (mode.createNew) throw new AlreadyExists("file exists", path);
          return r.node;
        }
        if (!r.dir) throw new IsADirectory("is a directory", path);
        return this.#tree.node(this.#tree.create(r.dir, r.name!, Kind.File, { mode: mode.mode }));
      })
      : this.#core.db.read(() => this.#tree.existing(path, true));
    return await this.#ctx.openContent(n, mode, path);
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
  async writeFile(
    path: string,
    data: Uint8Array | ReadableStream<Uint8Array>,
    options: WriteFileOptions = {},
  ): Promise<void> {
    this.#ctx.assertWritable(path);
    options.signal?.throwIfAborted();
    const at = options.offset;
    if (at !== undefined) {
      if (options.append) throw new InvalidArgument("'offset' and 'append' conflict", path);
      if (!Number.isSafeInteger(at) || at < 0) {
        throw new InvalidArgument(`invalid offset ${at}`, path);
      }
      if (at > MAX_FILE_SIZE) throw tooLarge(at);
    }
    await this.#ctx.enter();
    const tree = this.#tree;
    const create = options.create ?? true;
    const now = nowNs();
    const small = data instanceof Uint8Array && data.length <= tree.vol.chunkSize &&
      !options.append && at === undefined;
    if (small) {
      // Bigger chunks are encoded on a Worker first (which skips compressing
      // what the volume holds); small ones inside the transaction, where a
      // chunk already stored (found by its id) is not compressed again.
      const early = data.length > INLINE_ENCODE_BYTES
        ? (await this.#core.pool.encode(this.#codec.config, data.slice(), data.length)).enc
        : null;
      await this.#core.checkpointer.throttle();
      const done = this.#core.db.tx(() => {
        const vid = tree.vol.id;
        const enc = early ??
          (data.length > 0 ? this.#codec.encode(data, (h) => hasChunk(tree.db, vid, h)) : null);
        const r = tree.resolve(path, true);
        let node: { id: number; seq: number | null };
        if (r.node) {
          if (options.createNew) throw new AlreadyExists("file exists", path);
          if (r.node.kind === Kind.Dir) throw new IsADirectory("is a directory", path);
          if (this.#core.contents.has(r.node.id)) return false;
          node = r.node;
        } else {
          if (!create && !options.createNew) throw new NotFound("no such file", path);
          if (!r.dir) throw new IsADirectory("is a directory", path);
          node = { id: tree.create(r.dir, r.name!, Kind.File, { mode: options.mode }), seq: null };
        }
        commitChunks(
          tree,
          node,
          enc ? [enc] : [],
          data.length,
          now,
          () => this.#codec.encode(data),
        );
        return true;
      });
      if (done) return;
    }
    await this.#writeStreamed(path, data, options);
  }

  async #writeStreamed(
    path: string,
    data: Uint8Array | ReadableStream<Uint8Array>,
    options: WriteFileOptions,
  ): Promise<void> {
    const tree = this.#tree;
    const core = this.#core;
    const create = options.create ?? true;
    const target = core.db.tx(() => {
      const r = tree.resolve(path, true);
      if (r.node) {
        if (options.createNew) throw new AlreadyExists("file exists", path);
        if (r.node.kind === Kind.Dir) throw new IsADirectory("is a directory", path);
        return { id: r.node.id, fresh: false };
      }
      if (!create && !options.createNew) throw new NotFound("no such file", path);
      if (!r.dir) throw new IsADirectory("is a directory", path);
      const id = tree.createUnlinked(Kind.File, { mode: options.mode });
      if (core.session !== null) {
        // Marked open in the same transaction, so no check sees an orphan.
        tree.db.run("INSERT INTO opens(session, node) VALUES (?, ?)", core.session, id);
      }
      return { id, fresh: true };
    });
    const content = this.#ctx.contentFor(target.id, !core.contents.has(target.id));
    content.handles++;
    try {
      content.register();
      let offset = options.append ? content.size : options.offset ?? 0;
      if (!options.append && options.offset === undefined) await content.truncate(0);
      if (data instanceof Uint8Array) {
        const step = 4 * tree.vol.chunkSize;
        for (let o = 0; o < data.length; o += step) {
          options.signal?.throwIfAborted();
          await content.write(offset + o, data.subarray(o, o + step));
        }
      } else {
        // Streams arrive in small pieces (network reads): gather them into
        // chunk-sized blocks, so each write fills whole slots.
        const block = new Uint8Array(tree.vol.chunkSize);
        let fill = 0;
        for await (const chunk of data) {
          options.signal?.throwIfAborted();
          for (let o = 0; o < chunk.length;) {
            const n = Math.min(block.length - fill, chunk.length - o);
            block.set(chunk.subarray(o, o + n), fill);
            fill += n;
            o += n;
            if (fill === block.length) {
              offset += await content.write(offset, block);
              fill = 0;
            }
          }
        }
        if (fill > 0) await content.write(offset, block.subarray(0, fill));
      }
      await content.commit(false, () => {
        if (!target.fresh) return;
        // Linked only now, so readers never see a half-written new file. If
        // someone created the path meanwhile, replace it as rename(2) would.
        const r = tree.resolve(path, true);
        if (!r.dir) throw new IsADirectory("is a directory", path);
        if (r.node) {
          if (options.createNew) throw new AlreadyExists("file exists", path);
          if (r.node.kind === Kind.Dir) throw new IsADirectory("is a directory", path);
          tree.unlink(r.dir, r.name!);
        }
        tree.attach(tree.node(r.dir.id), r.name!, target.id);
      });
    } catch (e) {
      await content.discard();
      throw e;
    } finally {
      if (--content.handles === 0) await content.release();
    }
  }

  /** Writes a whole file from a string, as UTF-8. */
  writeTextFile(path: string, text: string, options: WriteFileOptions = {}): Promise<void> {
    return this.writeFile(path, encoder.encode(text), options);
  }

  /** Creates a directory (and its missing parents with `recursive`). */
  async mkdir(path: string, options: MkdirOptions = {}): Promise<void> {
    await this.#ctx.write((t) => {
      const names = splitPath(path);
      if (!options.recursive) {
        const r = t.resolve(path, true);
        if (r.node || !r.dir) throw new AlreadyExists("file exists", path);
        t.create(r.dir, r.name!, Kind.Dir, { mode: options.mode });
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
          dir = t.node(t.create(dir, name, Kind.Dir, { mode: options.mode }));
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
      if (r.node.kind !== Kind.Dir) t.unlink(r.dir, r.name!);
      else if (options.recursive) t.removeTree(r.dir, r.name!);
      else t.rmdir(r.dir, r.name!);
    });
  }

  /** Renames or moves an entry, replacing the destination as POSIX does. */
  async rename(oldPath: string, newPath: string, options: RenameOptions = {}): Promise<void> {
    await this.#ctx.write((t) => {
      const from = t.resolve(oldPath, false);
      if (!from.node) throw new NotFound("no such file or directory", oldPath);
      const to = t.resolve(newPath, false);
      if (!from.dir || !to.dir) throw new InvalidArgument("cannot rename the volume root");
      t.rename(from.dir, from.name!, to.dir, to.name!, options);
    });
  }

  /** Creates a hard link `newPath` to the file at `oldPath`. */
  async link(oldPath: string, newPath: string): Promise<void> {
    await this.#ctx.write((t) => {
      const n = t.existing(oldPath, false);
      const to = t.resolve(newPath, false);
      if (to.node || !to.dir) throw new AlreadyExists("file exists", newPath);
      t.link(n, to.dir, to.name!);
    });
  }

  /** Creates a symlink at `path` pointing to `target`. */
  async symlink(target: string, path: string): Promise<void> {
    await this.#ctx.write((t) => {
      const r = t.resolve(path, false);
      if (r.node || !r.dir) throw new AlreadyExists("file exists", path);
      t.create(r.dir, r.name!, Kind.Symlink, { target });
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
    await this.#ctx.write((t) => {
      const src = t.existing(from, true);
      if (src.kind !== Kind.File) throw new IsADirectory("not a regular file", from);
      const r = t.resolve(to, true);
      let dst: NodeRow;
      if (r.node) {
        if (r.node.kind === Kind.Dir) throw new IsADirectory("is a directory", to);
        if (r.node.id === src.id) return;
        dst = r.node;
        t.setAttributes(dst, { mode: src.mode });
      } else {
        if (!r.dir) throw new IsADirectory("is a directory", to);
        dst = t.node(t.create(r.dir, r.name!, Kind.File, { mode: src.mode }));
      }
      commitCopy(t, dst, { version: src.version, size: src.size, mtime: nowNs() });
    });
  }

  /**
   * Copies a file or a whole tree in one transaction. Content is shared, so
   * a copy costs no content bytes however large the tree.
   */
  async copy(from: string, to: string, options: CopyOptions = {}): Promise<void> {
    const preserve = options.preserveTimestamps ?? true;
    await this.#ctx.write((t) => {
      const src = t.existing(from, false);
      let r = t.resolve(to, false);
      if (r.node) {
        if (!options.overwrite) throw new AlreadyExists("destination exists", to);
        if (!r.dir) throw new InvalidArgument("cannot replace the volume root", to);
        if (src.kind === Kind.Dir && t.isAncestor(src.id, r.dir.id)) {
          throw new InvalidArgument("cannot copy a directory into itself", to);
        }
        if (r.node.id === src.id) return;
        if (r.node.kind === Kind.Dir) t.removeTree(r.dir, r.name!);
        else t.unlink(r.dir, r.name!);
        r = t.resolve(to, false);
      }
      if (!r.dir) throw new InvalidArgument("cannot replace the volume root", to);
      if (src.kind === Kind.Dir && t.isAncestor(src.id, r.dir.id)) {
        throw new InvalidArgument("cannot copy a directory into itself", to);
      }
      copyNode(t, src, t.node(r.dir.id), r.name!, preserve);
    });
  }

  // ---- trees ------------------------------------------------------------

  /** Walks a tree depth-first, like the standard library's `walk`. */
  async *walk(root = "/", options: WalkOptions = {}): AsyncIterableIterator<WalkEntry> {
    const {
      maxDepth = Infinity,
      includeFiles = true,
      includeDirs = true,
      includeSymlinks = true,
      followSymlinks = false,
      exts,
      match,
      skip,
    } = options;
    const rootPath = normalizePath(root);
    const wanted = (path: string, e: DirEntry) => {
      if (e.isFile && !includeFiles) return false;
      if (e.isDirectory && !includeDirs) return false;
      if (e.isSymlink && !includeSymlinks) return false;
      if (exts && !exts.some((x) => path.endsWith(x.startsWith(".") ? x : "." + x))) return false;
      if (match && !match.some((re) => re.test(path))) return false;
      if (skip && skip.some((re) => re.test(path))) return false;
      return true;
    };
    const top = await this.stat(rootPath);
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
      const children: { path: string; depth: number }[] = [];
      for await (const e of this.readDir(path)) {
        const p = path === "/" ? "/" + e.name : `${path}/${e.name}`;
        let entry: WalkEntry = { ...e, path: p };
        if (e.isSymlink && followSymlinks) {
          try {
            const info = await this.stat(p);
            entry = { ...entry, isFile: info.isFile, isDirectory: info.isDirectory, ino: info.ino };
            if (info.isDirectory && seen.has(info.ino)) continue;
          } catch (err) {
            if (!(err instanceof NotFound)) throw err;
          }
        }
        if (skip && skip.some((re) => re.test(p))) continue;
        if (wanted(p, entry)) yield entry;
        if (entry.isDirectory && depth + 1 < maxDepth) {
          seen.add(entry.ino);
          children.push({ path: p, depth: depth + 1 });
        }
      }
      stack.push(...children.reverse());
    }
  }

  /** Paths matching a glob (`*`, `**`, `?`, `[...]`, `{a,b}`). */
  async *glob(
    pattern: string,
    options: { includeDirs?: boolean; root?: string } = {},
  ): AsyncIterableIterator<WalkEntry> {
    const full = options.root ? joinPath(options.root, pattern) : pattern;
    const abs = full.startsWith("/") ? full : "/" + full;
    if (isLiteralGlob(abs)) {
      try {
        const info = await this.lstat(abs);
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
    if (!(await this.exists(base, { isDirectory: true }))) return;
    const depthAny = abs.includes("**");
    const parts = (p: string) => p.split("/").filter((x) => x !== "").length;
    const depth = depthAny ? Infinity : parts(abs) - parts(base);
    for await (
      const e of this.walk(base, {
        maxDepth: depth,
        includeDirs: options.includeDirs ?? true,
      })
    ) {
      if (e.path !== base && re.test(e.path)) yield e;
    }
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
    if (this.#core.closed) throw new InvalidArgument("the store is closed");
    return await this.#core.batch(() => fn(this));
  }

  // ---- versions ---------------------------------------------------------

  /** The stored versions of a file, newest first. */
  versions(path: string): Promise<VersionInfo[]> {
    return this.#ctx.read((t) => {
      const n = t.existing(path, true);
      if (n.kind !== Kind.File) throw new IsADirectory("not a regular file", path);
      return t.db.all<{ seq: number; size: number; mtime: number; created: number; id: number }>(
        `SELECT id, seq, size, mtime / 1000000 AS mtime, created / 1000000 AS created
         FROM versions WHERE node = ? AND session IS NULL ORDER BY seq DESC`,
        n.id,
      ).map((v) => ({
        version: v.seq,
        size: v.size,
        mtime: new Date(v.mtime),
        created: new Date(v.created),
        current: v.id === n.version,
      }));
    });
  }

  /** Makes an old version current again, as a new version (so it can be undone). */
  async restore(path: string, version: number): Promise<number> {
    return await this.#ctx.write((t) => {
      const n = t.existing(path, true);
      const v = t.db.get<{ id: number; size: number }>(
        "SELECT id, size FROM versions WHERE node = ? AND seq = ? AND session IS NULL",
        n.id,
        version,
      );
      if (!v) throw new NotFound(`no version ${version}`, path);
      return commitCopy(t, n, { version: v.id, size: v.size, mtime: nowNs() });
    });
  }

  /**
   * Sets how many versions a file, or every file below a directory, keeps
   * (null: inherit). The volume's setting applies where none is set.
   */
  async setRetention(path: string, keep: number | null): Promise<void> {
    if (keep !== null && (!Number.isSafeInteger(keep) || keep < 1)) {
      throw new InvalidArgument("a file keeps at least one version");
    }
    await this.#ctx.write((t) => t.setKeep(t.existing(path, true), keep));
  }

  // ---- extended attributes ----------------------------------------------

  /** The value of an extended attribute; `NoAttribute` if unset. */
  getXattr(path: string, name: string): Promise<Uint8Array> {
    return this.#ctx.read((t) => t.getXattr(t.existing(path, true), name));
  }

  /** Sets an extended attribute. */
  async setXattr(
    path: string,
    name: string,
    value: Uint8Array | string,
    options: XattrOptions = {},
  ): Promise<void> {
    const v = typeof value === "string" ? encoder.encode(value) : value;
    await this.#ctx.write((t) => t.setXattr(t.existing(path, true), name, v, options));
  }

  /** Removes an extended attribute; `NoAttribute` if unset. */
  async removeXattr(path: string, name: string): Promise<void> {
    await this.#ctx.write((t) => t.removeXattr(t.existing(path, true), name));
  }

  /** Names of the extended attributes set on a file. */
  listXattrs(path: string): Promise<string[]> {
    return this.#ctx.read((t) => t.listXattrs(t.existing(path, true)));
  }

  // ---- statistics -------------------------------------------------------

  /** Stored bytes and capacity, cheaply (one row; see `info` for more). */
  usage(): Promise<{ used: number; capacity: number | null }> {
    return this.#ctx.read((t) =>
      t.db.get<{ used: number; capacity: number | null }>(
        "SELECT stored_bytes AS used, capacity FROM volumes WHERE id = ?",
        t.vol.id,
      )!
    );
  }

  /** Counts, sizes, savings, capacity and utilisation of the volume. */
  info(): Promise<VolumeInfo> {
    return this.#ctx.read((t) => {
      const db = t.db;
      const vol = db.get<{ capacity: number | null }>(
        "SELECT capacity FROM volumes WHERE id = ?",
        t.vol.id,
      )!;
      const kinds = new Map<number, { n: number; s: number }>();
      for (
        const r of db.all<{ kind: number; n: number; s: number }>(
          `SELECT kind, COUNT(*) AS n, IFNULL(SUM(size), 0) AS s FROM nodes
           WHERE volume = ? AND nlink > 0 AND id != ? GROUP BY kind`,
          t.vol.id,
          t.root,
        )
      ) kinds.set(r.kind, r);
      const c = db.get<{ n: number; uniq: number; stored: number; ref: number }>(
        `SELECT COUNT(*) AS n, IFNULL(SUM(size), 0) AS uniq, IFNULL(SUM(stored), 0) AS stored,
         IFNULL(SUM(size * refs), 0) AS ref FROM chunks WHERE volume = ?`,
        t.vol.id,
      )!;
      const versions = db.get<{ n: number }>(
        `SELECT COUNT(*) AS n FROM versions v JOIN nodes n ON n.id = v.node
         WHERE n.volume = ? AND v.session IS NULL`,
        t.vol.id,
      )!.n;
      const capacity = vol.capacity;
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
        versions,
        capacity,
        free: capacity === null ? null : Math.max(0, capacity - c.stored),
        utilisation: capacity === null ? null : capacity === 0 ? 1 : c.stored / capacity,
      };
    });
  }
}

/** Copies one node (and, for directories, everything below) in a transaction. */
function copyNode(t: Tree, src: NodeRow, dir: NodeRow, name: string, preserve: boolean): void {
  const opts: CreateOptions = { mode: src.mode, uid: src.uid, gid: src.gid };
  if (src.kind === Kind.Symlink) opts.target = t.target(src);
  const copy = t.node(t.create(dir, name, src.kind, opts));
  if (src.kind === Kind.File && src.version !== null) {
    commitCopy(t, copy, {
      version: src.version,
      size: src.size,
      mtime: preserve ? src.mtime : nowNs(),
    });
  }
  if (src.kind === Kind.Dir) {
    let after: Uint8Array | null = null;
    while (true) {
      const page = t.listPagePlus(src.id, after, PAGE);
      for (const e of page) copyNode(t, e.node, t.node(copy.id), e.name, preserve);
      if (page.length < PAGE) break;
      after = page[page.length - 1].key;
    }
  }
  t.copyXattrs(src, copy);
  if (preserve) t.setAttributes(t.node(copy.id), { atime: src.atime, mtime: src.mtime });
}

/**
 * Operations by node id, for callers that hold node ids rather than paths
 * (the kernel mount). Ids are `FileInfo.ino`; the root is `rootIno`.
 */
export class NodeApi {
  readonly #vol: VolumeContext;

  /** @internal Node APIs come from `Volume.nodes`. */
  constructor(ctx: VolumeContext) {
    this.#vol = ctx;
  }

  /** The root directory's node id. */
  get rootIno(): number {
    return this.#vol.tree.root;
  }

  #dir(t: Tree, ino: number): NodeRow {
    const d = t.node(ino);
    if (d.kind !== Kind.Dir) throw new NotADirectory("not a directory", `#${ino}`);
    return d;
  }

  /** Metadata of a node. */
  stat(ino: number): Promise<FileInfo> {
    return this.#vol.read((t) => this.#vol.infoOf(t.node(ino)));
  }

  /** Looks a name up in a directory; `NotFound` if absent. */
  lookup(dirIno: number, name: string): Promise<FileInfo> {
    return this.#vol.read((t) => {
      const n = t.lookup(this.#dir(t, dirIno), name);
      if (!n) throw new NotFound("no such file or directory", name);
      return this.#vol.infoOf(n);
    });
  }

  /** A page of a directory's entries after `cookie` (an opaque key). */
  readDirPage(
    dirIno: number,
    cookie: Uint8Array | null,
    limit = PAGE,
  ): Promise<{ entries: DirEntry[]; cookie: Uint8Array | null }> {
    return this.#vol.read((t) => {
      this.#dir(t, dirIno);
      const page = t.listPage(dirIno, cookie, limit);
      return {
        entries: page.map((p) => p.entry),
        cookie: page.length < limit ? null : page[page.length - 1].key,
      };
    });
  }

  /** Every entry of a directory with its metadata, a page per query. */
  async *readDirPlus(
    dirIno: number,
    options: { xattrs?: boolean } = {},
  ): AsyncIterableIterator<DirEntryPlus> {
    let after: Uint8Array | null = null;
    while (true) {
      const { page, xattrs } = await this.#vol.read((t) => {
        this.#dir(t, dirIno);
        const page = t.listPagePlus(dirIno, after, PAGE);
        const xattrs = options.xattrs ? t.xattrsOf(page.map((e) => e.node.id)) : null;
        return { page, xattrs };
      });
      for (const e of page) {
        const info = this.#vol.infoOf(e.node);
        yield {
          name: e.name,
          isFile: info.isFile,
          isDirectory: info.isDirectory,
          isSymlink: info.isSymlink,
          ino: info.ino,
          info,
          ...(xattrs ? { xattrs: xattrs.get(e.node.id) ?? new Map() } : {}),
        };
      }
      if (page.length < PAGE) return;
      after = page[page.length - 1].key;
    }
  }

  /** Creates a file, directory or symlink in a directory. */
  create(
    dirIno: number,
    name: string,
    kind: "file" | "directory" | "symlink",
    options: CreateOptions = {},
  ): Promise<FileInfo> {
    const k = kind === "file" ? Kind.File : kind === "directory" ? Kind.Dir : Kind.Symlink;
    return this.#vol.write((t) =>
      this.#vol.infoOf(t.node(t.create(this.#dir(t, dirIno), name, k, options)))
    );
  }

  /** Removes a non-directory entry. */
  async unlink(dirIno: number, name: string): Promise<void> {
    await this.#vol.write((t) => t.unlink(this.#dir(t, dirIno), name));
  }

  /** Removes an empty directory. */
  async rmdir(dirIno: number, name: string): Promise<void> {
    await this.#vol.write((t) => t.rmdir(this.#dir(t, dirIno), name));
  }

  /** Renames an entry (renameat2 semantics). */
  async rename(
    srcDir: number,
    srcName: string,
    dstDir: number,
    dstName: string,
    options: RenameOptions = {},
  ): Promise<void> {
    await this.#vol.write((t) =>
      t.rename(this.#dir(t, srcDir), srcName, this.#dir(t, dstDir), dstName, options)
    );
  }

  /** Adds a hard link to a node. */
  link(ino: number, dirIno: number, name: string): Promise<FileInfo> {
    return this.#vol.write((t) =>
      this.#vol.infoOf(t.link(t.node(ino), this.#dir(t, dirIno), name))
    );
  }

  /** The target of a symlink node. */
  readLink(ino: number): Promise<string> {
    return this.#vol.read((t) => {
      const n = t.node(ino);
      if (n.kind !== Kind.Symlink) throw new InvalidArgument("not a symlink", `#${ino}`);
      return t.target(n);
    });
  }

  /** Changes mode, owner, size and times; returns the new metadata. */
  async setAttributes(ino: number, attrs: SetAttributes): Promise<FileInfo> {
    this.#vol.assertWritable();
    if (attrs.size !== undefined) {
      const n = await this.#vol.read((t) => t.node(ino));
      if (n.kind === Kind.Dir) throw new IsADirectory("is a directory", `#${ino}`);
      const f = await this.#vol.openContent(n, openMode({ write: true }), `#${ino}`);
      try {
        await f.truncate(attrs.size);
      } finally {
        await f.close();
      }
    }
    const c = this.#vol.core.contents.get(ino) as FileContent | undefined;
    if (c && attrs.mtime !== undefined) c.setMtime(attrs.mtime === "now" ? nowNs() : attrs.mtime);
    return await this.#vol.write((t) => {
      t.setAttributes(t.node(ino), attrs);
      return this.#vol.infoOf(t.node(ino));
    });
  }

  /** Opens a file node. */
  async open(ino: number, options?: OpenOptions | OpenMode): Promise<FileHandle> {
    const n = await this.#vol.read((t) => t.node(ino));
    return await this.#vol.openContent(n, openMode(options), `#${ino}`);
  }

  getXattr(ino: number, name: string): Promise<Uint8Array> {
    return this.#vol.read((t) => t.getXattr(t.node(ino), name));
  }

  async setXattr(
    ino: number,
    name: string,
    value: Uint8Array,
    options: XattrOptions = {},
  ): Promise<void> {
    await this.#vol.write((t) => t.setXattr(t.node(ino), name, value, options));
  }

  async removeXattr(ino: number, name: string): Promise<void> {
    await this.#vol.write((t) => t.removeXattr(t.node(ino), name));
  }

  listXattrs(ino: number): Promise<string[]> {
    return this.#vol.read((t) => t.listXattrs(t.node(ino)));
  }

  /** The path of a node (its first link, for hard-linked files). */
  pathOf(ino: number): Promise<string> {
    return this.#vol.read((t) => t.pathOf(ino));
  }
}
