/**
 * Copying a tree from one file system to another (or within one): what
 * pack, unpack and cross-volume copies do. Directories, files, symlinks and
 * hard links travel with their modes, owners, times and extended
 * attributes; only each file's current version does. Small files commit in
 * batches, one transaction each; large files stream.
 *
 * @module
 */

import { AlreadyExists, NotFound } from "../errors.ts";
import { normalizePath } from "../paths.ts";
import { type DirEntryPlus, type FileInfo, specialOf } from "../types.ts";
import type { ByNode, ExtendedAttributes, FileSystem } from "../volume/api.ts";

/** Running totals of a pack, unpack or tree copy. */
export interface TransferProgress {
  files: number;
  bytes: number;
  /** Bytes of the whole transfer, once known. */
  totalBytes: number;
}

/** Options of {@linkcode copyAcross}. */
export interface TransferOptions {
  onProgress?: (p: TransferProgress) => void;
  /**
   * Give each copied file its source's id (`stat().id`) where the
   * destination's store has no file with it yet (pack and unpack do);
   * otherwise copies are new files with new ids.
   */
  keepIds?: boolean;
}

/** A file system a tree can be copied into: times of symlinks are set by node. */
export type CopyTarget = FileSystem & ExtendedAttributes & ByNode;

/** Files whose content travels in one read instead of a stream. */
const SMALL = 8 << 20;
/** Small files committed per transaction. */
const BATCH_FILES = 256;
const BATCH_BYTES = 32 << 20;

const join = (dir: string, name: string) => (dir === "/" ? `/${name}` : `${dir}/${name}`);

/**
 * Logical bytes of the files under `path` (a file: its size).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Store, treeBytes } from "../../mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".trove" });
 * await Deno.remove(path);
 * await using store = await Store.open(path, { create: true });
 * const vol = await store.volume();
 * await vol.mkdir("/d");
 * await vol.writeTextFile("/d/a.txt", "abc");
 * assert((await treeBytes(vol, "/d")) === 3);
 * await Deno.remove(path);
 * ```
 */
export async function treeBytes(fs: FileSystem, path: string): Promise<number> {
  const top = await fs.lstat(path);
  if (!top.isDirectory) return top.isFile ? top.size : 0;
  let total = 0;
  const stack = [normalizePath(path)];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    for await (const e of fs.readDirPlus(dir)) {
      if (e.isDirectory) stack.push(join(dir, e.name));
      else if (e.isFile) total += e.info.size;
    }
  }
  return total;
}

/** One entry on its way: where it goes and what it carries. */
interface Pending {
  to: string;
  info: FileInfo;
  xattrs?: Map<string, Uint8Array>;
}

/** True when `path` is an existing, empty directory. */
async function emptyDir(fs: FileSystem, path: string): Promise<boolean> {
  try {
    const info = await fs.lstat(path);
    if (!info.isDirectory) return false;
  } catch (e) {
    if (e instanceof NotFound) return false;
    throw e;
  }
  for await (const _ of fs.readDir(path)) return false;
  return true;
}

/** One copy of a tree. */
class TreeCopy {
  readonly #from: FileSystem;
  readonly #to: CopyTarget;
  readonly #options: TransferOptions;
  readonly progress: TransferProgress = { files: 0, bytes: 0, totalBytes: 0 };
  /** The first copy of each hard-linked file, by source node. */
  readonly #links = new Map<number, string>();
  readonly #dirs: Pending[] = [];
  #batch: { entry: Pending; from: string }[] = [];
  #batchBytes = 0;
  /** The destination root, when the tree goes into an existing empty directory. */
  into: string | null = null;

  constructor(from: FileSystem, to: CopyTarget, options: TransferOptions) {
    this.#from = from;
    this.#to = to;
    this.#options = options;
  }

  /** Commits the batched small files in one transaction. */
  async flush(): Promise<void> {
    const items = this.#batch;
    this.#batch = [];
    this.#batchBytes = 0;
    if (items.length === 0) return;
    const to = this.#to;
    await to.batch(async () => {
      for (const { entry, from: path } of items) {
        const data = await this.#from.readFile(path);
        await this.#write(entry, data);
        await this.#finish(entry);
        this.progress.bytes += data.length;
        this.progress.files++;
      }
    });
    this.#options.onProgress?.(this.progress);
  }

  /** Attributes, mode, owner and (files) times, once the entry exists. */
  async #finish(e: Pending): Promise<void> {
    const to = this.#to;
    for (const [name, value] of e.xattrs ?? []) await to.setXattr(e.to, name, value);
    await to.chmod(e.to, e.info.mode & 0o7777);
    await to.chown(e.to, e.info.uid, e.info.gid);
    if (!e.info.isDirectory) await to.utime(e.to, e.info.atime, e.info.mtime);
  }

  /** Copies one entry; true when it is a directory whose entries come next. */
  async entry(path: string, entry: Pending): Promise<boolean> {
    const { info } = entry;
    if (info.isDirectory) {
      await this.flush();
      if (this.into !== entry.to) await this.#to.mkdir(entry.to, { mode: info.mode & 0o7777 });
      this.#dirs.push(entry);
      return true;
    }
    if (info.isSymlink) await this.#symlink(path, entry);
    else if (info.isFile) await this.#file(path, entry);
    else await this.#special(entry);
    return false;
  }

  /** A FIFO, socket or device: a node with attributes, no content. */
  async #special(entry: Pending): Promise<void> {
    const special = specialOf(entry.info);
    if (!special) return;
    await this.flush();
    const first = this.#links.get(entry.info.ino);
    if (first !== undefined) return await this.#to.link(first, entry.to);
    if (entry.info.nlink > 1) this.#links.set(entry.info.ino, entry.to);
    await this.#to.mknod(entry.to, special);
    await this.#finish(entry);
    this.progress.files++;
  }

  async #symlink(path: string, entry: Pending): Promise<void> {
    await this.flush();
    await this.#to.symlink(await this.#from.readLink(path), entry.to);
    // By node, not path: utime() would follow the link to its target.
    const link = await this.#to.lstat(entry.to);
    await this.#to.nodes.setAttributes(link.ino, {
      atime: entry.info.atimeNs,
      mtime: entry.info.mtimeNs,
    });
  }

  async #file(path: string, entry: Pending): Promise<void> {
    const { info } = entry;
    const first = this.#links.get(info.ino);
    if (first !== undefined) {
      await this.flush();
      await this.#to.link(first, entry.to);
      return;
    }
    if (info.nlink > 1) this.#links.set(info.ino, entry.to);
    if (info.size < SMALL) {
      this.#batch.push({ entry, from: path });
      this.#batchBytes += info.size;
      if (this.#batch.length >= BATCH_FILES || this.#batchBytes >= BATCH_BYTES) await this.flush();
      return;
    }
    await this.flush();
    await this.#stream(path, entry);
  }

  /** Writes a copied file, with its source's id when asked and free. */
  async #write(entry: Pending, data: Uint8Array | ReadableStream<Uint8Array>): Promise<void> {
    const options = { createNew: true, mode: entry.info.mode & 0o7777 };
    const id = this.#options.keepIds ? entry.info.id : undefined;
    if (id === undefined) return await this.#to.writeFile(entry.to, data, options);
    try {
      await this.#to.writeFile(entry.to, data, { ...options, id });
    } catch (e) {
      // The store has a file with that id already: refused before a byte of `data` was read.
      if (!(e instanceof AlreadyExists && e.path === id)) throw e;
      await this.#to.writeFile(entry.to, data, options);
    }
  }

  /** A large file, streamed from the version current when it opens. */
  async #stream(path: string, entry: Pending): Promise<void> {
    const progress = this.progress;
    const onProgress = this.#options.onProgress;
    const handle = await this.#from.open(path, { read: true, snapshot: true });
    let sent = 0;
    const counted = handle.readable.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, c) {
          sent += chunk.length;
          progress.bytes += chunk.length;
          if (sent % (64 << 20) < chunk.length) onProgress?.(progress);
          c.enqueue(chunk);
        },
      }),
    );
    await this.#write(entry, counted);
    await this.#finish(entry);
    progress.files++;
    onProgress?.(progress);
  }

  /** Every entry below directory `from`, depth first. */
  async below(from: string, to: string): Promise<void> {
    const stack = [{ from, to }];
    while (stack.length > 0) {
      const dir = stack.pop()!;
      const children: { from: string; to: string }[] = [];
      for await (const e of this.#from.readDirPlus(dir.from, { xattrs: true })) {
        const path = join(dir.from, e.name);
        const target = join(dir.to, e.name);
        if (await this.entry(path, pending(target, e))) children.push({ from: path, to: target });
      }
      stack.push(...children.reverse());
    }
  }

  /** Directory times last: adding entries changed them. */
  async finishDirs(): Promise<void> {
    for (const d of this.#dirs.reverse()) {
      await this.#finish(d);
      await this.#to.utime(d.to, d.info.atime, d.info.mtime);
    }
  }
}

function pending(to: string, e: DirEntryPlus): Pending {
  return { to, info: e.info, xattrs: e.xattrs };
}

/**
 * Copies the tree at `source.path` of one file system to `dest.path` of
 * another (or the same): directories, files, symlinks and hard links with
 * their modes, owners, times and extended attributes. `dest.path` must not
 * exist (its parent must), except that a directory may be copied into an
 * empty one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { copyAcross, Store } from "../../mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".trove" });
 * await Deno.remove(path);
 * await using store = await Store.open(path, { create: true });
 * const a = await store.volume();
 * const b = await store.createVolume("b");
 * await a.mkdir("/src");
 * await a.writeTextFile("/src/x.txt", "x");
 * await copyAcross({ fs: a, path: "/src" }, { fs: b, path: "/copy" });
 * assert((await b.readTextFile("/copy/x.txt")) === "x");
 * await Deno.remove(path);
 * ```
 */
export async function copyAcross(
  source: { fs: FileSystem; path: string },
  dest: { fs: CopyTarget; path: string },
  options: TransferOptions = {},
): Promise<TransferProgress> {
  const src = normalizePath(source.path);
  const to = normalizePath(dest.path);
  const { info, xattrs } = await source.fs.statPlus(src, { follow: false });
  const into = await emptyDir(dest.fs, to);
  if (!into || !info.isDirectory) {
    const present = await dest.fs.lstat(to).then(() => true, (e) => {
      if (e instanceof NotFound) return false;
      throw e;
    });
    if (present) throw new AlreadyExists("destination exists", to);
  }
  const copy = new TreeCopy(source.fs, dest.fs, options);
  copy.progress.totalBytes = await treeBytes(source.fs, src);
  if (into) copy.into = to;
  if (await copy.entry(src, { to, info, xattrs })) await copy.below(src, to);
  await copy.flush();
  await copy.finishDirs();
  options.onProgress?.(copy.progress);
  return copy.progress;
}
