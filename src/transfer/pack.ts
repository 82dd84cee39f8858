/**
 * Packs and unpacks: a subtree of a volume as one self-contained file, and
 * back. A pack is an ordinary Trove store whose default volume holds the
 * subtree, so it opens with every tool that opens a store (`trove --store
 * x.pack ls`), deduplicates and compresses like one, and can be encrypted.
 * Only each file's current version travels; modes, owners, times,
 * symlinks, hard links and extended attributes (WebDAV dead properties
 * included) do.
 *
 * @module
 */

import { AlreadyExists, NotFound } from "../errors.ts";
import { Db } from "../db/db.ts";
import { normalizePath } from "../paths.ts";
import { Store } from "../store/store.ts";
import type { Credential, DirEntryPlus, FileInfo, VolumeOptions } from "../types.ts";
import type { Volume } from "../volume/volume.ts";

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
}

/** Options of {@linkcode pack}. */
export interface PackOptions extends TransferOptions, VolumeOptions {
  /** Encrypt the pack under this credential. */
  encryptWith?: Credential;
}

/** Options of {@linkcode unpack}. */
export interface UnpackOptions extends TransferOptions {
  /** Unlocks an encrypted pack. */
  credential?: Credential;
}

/** Files whose content travels in one read instead of a stream. */
const SMALL = 8 << 20;
/** Small files committed per transaction. */
const BATCH_FILES = 256;
const BATCH_BYTES = 32 << 20;

const join = (dir: string, name: string) => (dir === "/" ? `/${name}` : `${dir}/${name}`);

/** Logical bytes of the files under `path` (a file: its size). */
export async function treeBytes(vol: Volume, path: string): Promise<number> {
  const top = await vol.lstat(path);
  if (!top.isDirectory) return top.isFile ? top.size : 0;
  let total = 0;
  const stack = [normalizePath(path)];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    for await (const e of vol.readDirPlus(dir)) {
      if (e.isDirectory) stack.push(join(dir, e.name));
      else if (e.isFile) total += e.info.size;
    }
  }
  return total;
}

interface Pending {
  to: string;
  info: FileInfo;
  xattrs?: Map<string, Uint8Array>;
}

/**
 * Copies the tree at `fromPath` in one volume to `toPath` in another (or
 * the same) volume: directories, files, symlinks and hard links with their
 * modes, owners, times and extended attributes. `toPath` must not exist
 * (its parent must), except that a directory may be copied into an empty
 * one. Small files commit in batches, one transaction each;
 * large files stream.
 */
export async function copyAcross(
  from: Volume,
  fromPath: string,
  to: Volume,
  toPath: string,
  options: TransferOptions = {},
): Promise<TransferProgress> {
  const src = normalizePath(fromPath);
  const dest = normalizePath(toPath);
  const { info: topInfo, xattrs: topXattrs } = await from.statPlus(src, { follow: false });
  const into = await emptyDir(to, dest);
  if (!into || !topInfo.isDirectory) {
    const present = await to.lstat(dest).then(() => true, (e) => {
      if (e instanceof NotFound) return false;
      throw e;
    });
    if (present) throw new AlreadyExists("destination exists", dest);
  }
  const progress: TransferProgress = {
    files: 0,
    bytes: 0,
    totalBytes: await treeBytes(from, src),
  };
  const links = new Map<number, string>();
  const dirs: Pending[] = [];
  let batch: { entry: Pending; from: string }[] = [];
  let batchBytes = 0;

  const flush = async () => {
    const items = batch;
    batch = [];
    batchBytes = 0;
    if (items.length === 0) return;
    await to.batch(async () => {
      for (const { entry, from: path } of items) {
        const data = await from.readFile(path);
        await to.writeFile(entry.to, data, { createNew: true, mode: entry.info.mode & 0o7777 });
        await finish(entry);
        progress.bytes += data.length;
        progress.files++;
      }
    });
    options.onProgress?.(progress);
  };

  const finish = async (e: Pending) => {
    for (const [name, value] of e.xattrs ?? []) await to.setXattr(e.to, name, value);
    await to.chmod(e.to, e.info.mode & 0o7777);
    await to.chown(e.to, e.info.uid, e.info.gid);
    if (!e.info.isDirectory) await to.utime(e.to, e.info.atime, e.info.mtime);
  };

  const copyEntry = async (path: string, entry: Pending) => {
    const { info } = entry;
    if (info.isDirectory) {
      await flush();
      if (!(into && entry.to === dest)) await to.mkdir(entry.to, { mode: info.mode & 0o7777 });
      dirs.push(entry);
      return true;
    }
    if (info.isSymlink) {
      await flush();
      await to.symlink(await from.readLink(path), entry.to);
      // By node, not path: utime() would follow the link to its target.
      const link = await to.lstat(entry.to);
      await to.nodes.setAttributes(link.ino, { atime: info.atimeNs, mtime: info.mtimeNs });
      return false;
    }
    if (!info.isFile) return false;
    const first = links.get(info.ino);
    if (first !== undefined) {
      await flush();
      await to.link(first, entry.to);
      return false;
    }
    if (info.nlink > 1) links.set(info.ino, entry.to);
    if (info.size < SMALL) {
      batch.push({ entry, from: path });
      batchBytes += info.size;
      if (batch.length >= BATCH_FILES || batchBytes >= BATCH_BYTES) await flush();
      return false;
    }
    await flush();
    // A snapshot handle reads the version current at open to its end.
    const handle = await from.open(path, { read: true, snapshot: true });
    let sent = 0;
    const counted = handle.readable.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, c) {
          sent += chunk.length;
          progress.bytes += chunk.length;
          if (sent % (64 << 20) < chunk.length) options.onProgress?.(progress);
          c.enqueue(chunk);
        },
      }),
    );
    await to.writeFile(entry.to, counted, { createNew: true, mode: info.mode & 0o7777 });
    await finish(entry);
    progress.files++;
    options.onProgress?.(progress);
    return false;
  };

  const isDir = await copyEntry(src, { to: dest, info: topInfo, xattrs: topXattrs });
  if (isDir) {
    const stack = [{ from: src, to: dest }];
    while (stack.length > 0) {
      const dir = stack.pop()!;
      const children: { from: string; to: string }[] = [];
      for await (const e of from.readDirPlus(dir.from, { xattrs: true })) {
        const path = join(dir.from, e.name);
        const target = join(dir.to, e.name);
        if (await copyEntry(path, toPending(target, e))) children.push({ from: path, to: target });
      }
      stack.push(...children.reverse());
    }
  }
  await flush();
  // Directory times last: adding entries changed them.
  for (const d of dirs.reverse()) {
    await finish(d);
    await to.utime(d.to, d.info.atime, d.info.mtime);
  }
  options.onProgress?.(progress);
  return progress;
}

/** True when `path` is an existing, empty directory. */
async function emptyDir(vol: Volume, path: string): Promise<boolean> {
  try {
    const info = await vol.lstat(path);
    if (!info.isDirectory) return false;
  } catch (e) {
    if (e instanceof NotFound) return false;
    throw e;
  }
  for await (const _ of vol.readDir(path)) return false;
  return true;
}

function toPending(to: string, e: DirEntryPlus): Pending {
  return { to, info: e.info, xattrs: e.xattrs };
}

async function refuseExisting(dest: string): Promise<void> {
  try {
    await Deno.lstat(dest);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  throw new AlreadyExists("destination exists", dest);
}

/**
 * Writes the subtree at `path` as a new pack file at `dest`: written beside
 * it and renamed into place, so `dest` appears complete or not at all; an
 * existing `dest` is refused. A directory's contents become the pack's
 * root; a single file becomes its only entry.
 */
export async function pack(
  vol: Volume,
  path: string,
  dest: string,
  options: PackOptions = {},
): Promise<TransferProgress> {
  await refuseExisting(dest);
  const top = await vol.lstat(path);
  const tmp = `${dest}.partial-${Deno.pid}-${Date.now()}`;
  try {
    const settings: VolumeOptions = {
      chunkSize: options.chunkSize ?? vol.chunkSize,
      compression: options.compression,
      keepVersions: options.keepVersions ?? 1,
    };
    const progress = await (async () => {
      await using store = await Store.open(tmp, { create: true, defaultVolume: false });
      const packed = await store.createVolume("default", { ...settings, ...options.encryptWith });
      if (top.isDirectory) return await copyAcross(vol, path, packed, "/", options);
      const name = normalizePath(path).split("/").pop()!;
      return await copyAcross(vol, path, packed, `/${name}`, options);
    })();
    // One self-contained file: its log folded in before it takes its name.
    Db.settle(tmp);
    await Deno.rename(tmp, dest);
    return progress;
  } catch (e) {
    for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(tmp + suffix).catch(() => {});
    throw e;
  }
}

/**
 * Unpacks the pack file `src` into the volume at `path`, which must not
 * exist yet (its parent must) or be an empty directory: the pack's root
 * becomes `path`.
 */
export async function unpack(
  src: string,
  vol: Volume,
  path: string,
  options: UnpackOptions = {},
): Promise<TransferProgress> {
  try {
    await Deno.lstat(src);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new NotFound("no such pack", src);
    throw e;
  }
  await using store = await Store.open(src, { readOnly: true });
  const packed = await store.volume("default", { ...options.credential, readOnly: true });
  return await copyAcross(packed, "/", vol, path, options);
}
