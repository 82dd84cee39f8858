/**
 * Copying between the host file system and a volume: what `trove put` and
 * `trove get` do. Host reads run ahead of volume writes (Deno reads files
 * on a thread pool), and small files commit in batches, one transaction
 * each, so importing a tree pays one commit per batch, not per file.
 *
 * @module
 */

import {
  AlreadyExists,
  type FileInfo,
  type FileSystem,
  type MknodOptions,
  specialOf,
  type Volume,
} from "../mod.ts";
import { hostError } from "./_common.ts";
import { hostMknod } from "./_mknod.ts";

/** Progress of a transfer. */
export interface Progress {
  files: number;
  bytes: number;
}

/** Options of {@linkcode putTree}. */
export interface PutOptions {
  /** Called after each file with the running totals. */
  onProgress?: (p: Progress) => void;
  /** Files per transaction (default 256). */
  batchFiles?: number;
  /** Bytes per transaction (default 32 MiB). */
  batchBytes?: number;
  /** Files read ahead of the writer (default 8). */
  readAhead?: number;
  /** Files written at once (default 4). */
  parallel?: number;
  /**
   * Leave a file's content alone when the volume holds it with the same
   * size and modification time (default true, as rsync does); its
   * permission bits still follow the source.
   */
  skipUnchanged?: boolean;
}

/** What placing the items of one `putTree` shares. */
interface Placing {
  vol: Volume;
  progress: Progress;
  onProgress?: (p: Progress) => void;
  /** Inodes of the directories placed so far, by volume path (null: not tracked). */
  dirInos: Map<string, number> | null;
}

interface Item {
  src: string;
  dest: string;
  kind: "file" | "dir" | "symlink" | "special";
  mode?: number;
  mtime?: Date | null;
  /** A file's size when it was listed. */
  size?: number;
  target?: string;
  /** What a special file is, and its device number. */
  special?: MknodOptions;
}

/**
 * Lists a host tree, parents before children, names in order. Listing is
 * synchronous: a stat costs a few µs where an async one costs tens in
 * dispatch, and nothing else waits on this thread while `put` lists.
 */
function* hostTree(src: string, dest: string): Generator<Item> {
  // Directories still to list, deepest last; each holds its sorted names.
  const stack: { src: string; dest: string; names: string[]; at: number }[] = [];
  let next: { src: string; dest: string } | null = { src, dest };
  while (next || stack.length > 0) {
    if (!next) {
      const top = stack[stack.length - 1];
      if (top.at === top.names.length) {
        stack.pop();
        continue;
      }
      const n = top.names[top.at++];
      next = { src: `${top.src}/${n}`, dest: top.dest === "/" ? `/${n}` : `${top.dest}/${n}` };
    }
    const { src, dest } = next;
    next = null;
    let st: Deno.FileInfo;
    try {
      st = Deno.lstatSync(src);
    } catch (e) {
      throw hostError(e, src);
    }
    if (st.isSymlink) {
      yield { src, dest, kind: "symlink", target: Deno.readLinkSync(src) };
    } else if (st.isDirectory) {
      yield { src, dest, kind: "dir", mode: st.mode ?? undefined, mtime: st.mtime };
      const names: string[] = [];
      try {
        for (const e of Deno.readDirSync(src)) names.push(e.name);
      } catch (e) {
        throw hostError(e, src);
      }
      stack.push({ src, dest, names: names.sort(), at: 0 });
    } else if (st.isFile) {
      yield { src, dest, kind: "file", mode: st.mode ?? undefined, mtime: st.mtime, size: st.size };
    } else {
      const special = specialOf(st);
      if (special) yield { src, dest, kind: "special", special, mtime: st.mtime };
    }
  }
}

const LARGE = 8 << 20;
/** Files up to this size are read on the calling thread (a thread-pool hop costs more). */
const READ_HERE = 64 << 10;

/** A host file's bytes, read now when it is small, else on Deno's thread pool. */
function hostRead(item: Item): Promise<Uint8Array> {
  try {
    if (item.size! <= READ_HERE) return Promise.resolve(Deno.readFileSync(item.src));
  } catch (e) {
    return Promise.reject(hostError(e, item.src));
  }
  return Deno.readFile(item.src).catch((e) => {
    throw hostError(e, item.src);
  });
}

/**
 * Copies a host file or tree into the volume at `dest` (created as needed;
 * existing files are replaced). Keeps permission bits and modification
 * times; directory times are set last, since adding entries changes them.
 */
export async function putTree(
  vol: Volume,
  src: string,
  dest: string,
  options: PutOptions = {},
): Promise<Progress> {
  const batchFiles = options.batchFiles ?? 256;
  const batchBytes = options.batchBytes ?? 32 << 20;
  const ahead = options.readAhead ?? 8;
  const parallel = options.parallel ?? 4;
  const progress: Progress = { files: 0, bytes: 0 };
  const dirs: Item[] = [];
  const at: Placing = {
    vol,
    progress,
    onProgress: options.onProgress,
    dirInos: options.skipUnchanged === false ? null : new Map(),
  };
  const items = hostTree(src, dest);
  // A window of host reads in flight ahead of the writer.
  const queue: { item: Item; data: Promise<Uint8Array | null> }[] = [];
  let exhausted = false;
  const fill = () => {
    while (!exhausted && queue.length < ahead) {
      const next = items.next();
      if (next.done) {
        exhausted = true;
        return;
      }
      const item = next.value;
      const small = item.kind === "file" && item.size! < LARGE;
      const data = small ? hostRead(item) : Promise.resolve(null);
      // Awaited later, when its turn comes; a failure meanwhile is not "unhandled".
      data.catch(() => {});
      queue.push({ item, data });
    }
  };
  fill();
  while (queue.length > 0) {
    let files = 0;
    let bytes = 0;
    await vol.batch(async () => {
      // Up to `parallel` files at once, so one encodes on a Worker while
      // another commits; directories go alone, before what they hold.
      const running = new Set<Promise<void>>();
      while (queue.length > 0 && files < batchFiles && bytes < batchBytes) {
        const { item, data } = queue.shift()!;
        files++;
        if (item.kind === "dir") {
          await Promise.all(running);
          await place(at, item, null);
          dirs.push(item);
        } else {
          const job: Promise<void> = data.then((d) => place(at, item, d)).then((n) => {
            bytes += n;
            running.delete(job);
            options.onProgress?.(progress);
          });
          running.add(job);
          if (running.size >= parallel) await Promise.race(running);
        }
        fill();
      }
      await Promise.all(running);
    });
  }
  for (const d of dirs.reverse()) {
    if (d.mtime) await vol.utime(d.dest, d.mtime, d.mtime);
  }
  return progress;
}

async function place(at: Placing, item: Item, data: Uint8Array | null): Promise<number> {
  try {
    return await placeOne(at, item, data);
  } catch (e) {
    throw hostError(e, item.src);
  }
}

/**
 * What the volume holds at a file item's destination: its metadata, null
 * when nothing is there, undefined when its directory is not tracked.
 */
async function existing(at: Placing, item: Item): Promise<FileInfo | null | undefined> {
  const cut = item.dest.lastIndexOf("/");
  const ino = at.dirInos?.get(cut === 0 ? "/" : item.dest.slice(0, cut));
  return ino === undefined ? undefined : await at.vol.nodes.find(ino, item.dest.slice(cut + 1));
}

/** True when `have` holds what `item` would write: same size and modification time. */
function unchanged(have: FileInfo, item: Item): boolean {
  return have.isFile && have.size === item.size && !!item.mtime &&
    have.mtime.getTime() === item.mtime.getTime();
}

async function placeOne(at: Placing, item: Item, data: Uint8Array | null): Promise<number> {
  const { vol, progress, onProgress } = at;
  if (item.kind === "dir") {
    await vol.mkdir(item.dest, { recursive: true, mode: item.mode });
    at.dirInos?.set(item.dest, (await vol.lstat(item.dest)).ino);
    return 0;
  }
  if (item.kind === "symlink") {
    await vol.remove(item.dest).catch(() => {});
    await vol.symlink(item.target!, item.dest);
    return 0;
  }
  if (item.kind === "special") {
    await vol.remove(item.dest).catch(() => {});
    await vol.mknod(item.dest, item.special!);
    if (item.mtime) await vol.utime(item.dest, item.mtime, item.mtime);
    progress.files++;
    return 0;
  }
  const have = await existing(at, item);
  if (have && unchanged(have, item)) {
    if (item.mode !== undefined && (have.mode & 0o7777) !== (item.mode & 0o7777)) {
      await vol.chmod(item.dest, item.mode);
    }
    progress.files++;
    progress.bytes += item.size!;
    return item.size!;
  }
  let size: number;
  // A new file takes its mode and time in the commit that writes it; one
  // that exists keeps its own mode unless told, so it gets a chmod too.
  const options = { mode: item.mode, mtime: item.mtime ?? undefined };
  const replace = async (body: Uint8Array | ReadableStream<Uint8Array>) => {
    await vol.writeFile(item.dest, body, options);
    if (item.mode !== undefined) await vol.chmod(item.dest, item.mode);
  };
  const write = async (body: Uint8Array | ReadableStream<Uint8Array>) => {
    if (have) return await replace(body);
    try {
      await vol.writeFile(item.dest, body, { ...options, createNew: true });
    } catch (e) {
      if (!(e instanceof AlreadyExists)) throw e;
      await replace(body);
    }
  };
  if (data) {
    await write(data);
    size = data.length;
  } else {
    const f = await Deno.open(item.src);
    try {
      size = (await f.stat()).size;
    } catch (e) {
      f.close();
      throw e;
    }
    // The readable closes the file when it ends or is cancelled (a write
    // refused before reading it leaves it unread for the retry). Large
    // files report progress as they stream.
    const counted = f.readable.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, c) {
          progress.bytes += chunk.length;
          onProgress?.(progress);
          c.enqueue(chunk);
        },
      }),
    );
    await write(counted);
  }
  progress.files++;
  if (data) progress.bytes += size;
  return size;
}

/** Bytes of the regular files in a host tree (for a progress bar's total). */
export async function hostBytes(path: string): Promise<number> {
  const st = await Deno.lstat(path);
  if (st.isFile) return st.size;
  if (!st.isDirectory) return 0;
  let total = 0;
  for await (const e of Deno.readDir(path)) total += await hostBytes(`${path}/${e.name}`);
  return total;
}

/** Options of {@linkcode getTree}. */
export interface GetOptions {
  onProgress?: (p: Progress) => void;
}

/**
 * Copies a volume file or tree to the host at `dest`. Each file is written
 * beside its destination and renamed into place, so an interrupted copy
 * never leaves a half-written file under the real name. Keeps permission
 * bits and modification times; existing host files are replaced.
 */
export async function getTree(
  vol: FileSystem,
  src: string,
  dest: string,
  options: GetOptions = {},
): Promise<Progress> {
  const progress: Progress = { files: 0, bytes: 0 };
  const dirs: { path: string; mtime: Date; mode: number }[] = [];
  const copy = async (from: string, to: string) => {
    try {
      await copyOne(from, to);
    } catch (e) {
      throw hostError(e, to);
    }
  };
  const copyOne = async (from: string, to: string) => {
    const info = await vol.lstat(from);
    if (info.isSymlink) {
      await Deno.remove(to).catch(() => {});
      await Deno.symlink(await vol.readLink(from), to);
      return;
    }
    if (!info.isFile && !info.isDirectory) {
      await Deno.remove(to).catch(() => {});
      if (!hostMknod(to, info)) {
        console.error(`trove: skipped special file ${from} (mknod needs --allow-ffi)`);
        return;
      }
      await Deno.utime(to, info.atime, info.mtime);
      progress.files++;
      return;
    }
    if (info.isDirectory) {
      await Deno.mkdir(to, { recursive: true });
      dirs.push({ path: to, mtime: info.mtime, mode: info.mode & 0o7777 });
      const names: string[] = [];
      for await (const e of vol.readDir(from)) names.push(e.name);
      names.sort();
      for (const n of names) await copy(from === "/" ? `/${n}` : `${from}/${n}`, `${to}/${n}`);
      return;
    }
    const tmp = `${to}.trove-partial-${Deno.pid}`;
    const handle = await vol.open(from, { read: true, snapshot: true });
    try {
      const out = await Deno.open(tmp, { write: true, create: true, truncate: true });
      await handle.readable.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, c) {
            progress.bytes += chunk.length;
            options.onProgress?.(progress);
            c.enqueue(chunk);
          },
        }),
      ).pipeTo(out.writable);
      await Deno.chmod(tmp, info.mode & 0o7777);
      await Deno.utime(tmp, info.atime, info.mtime);
      await Deno.rename(tmp, to);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw e;
    } finally {
      await handle.close().catch(() => {});
    }
    progress.files++;
    options.onProgress?.(progress);
  };
  await copy(src, dest);
  for (const d of dirs.reverse()) {
    await Deno.chmod(d.path, d.mode);
    await Deno.utime(d.path, d.mtime, d.mtime);
  }
  return progress;
}
