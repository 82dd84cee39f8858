/**
 * Mounting a volume: checks the mountpoint (clearing a stale mount a
 * killed process left), starts the FUSE session, and unmounts cleanly —
 * `fusermount3 -u -z`, then serving until the kernel ends the connection,
 * so requests in flight are answered and no client hangs; open files are
 * committed and closed before `finished` resolves.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { Busy, type ByNode, type FileSystem, InvalidArgument, NotFound } from "../mod.ts";
import { FuseSession, writeSysfs } from "./libfuse.ts";
import { TroveFs } from "./trovefs.ts";

/** Kernel read-ahead for the mount: one chunk of the default size. */
const READ_AHEAD_KB = 1024;

/** Options of {@linkcode mount}. */
export interface MountOptions {
  /** Mount read-only (the volume should be opened read-only too). */
  readOnly?: boolean;
  /**
   * Let users other than the one mounting use the mount, the kernel
   * checking each access against the stored owners and modes as a local
   * file system does. The default is true when root mounts (a mount by
   * root serves every user, as ext4 does) and false otherwise (a user's
   * mount is private; other users need `user_allow_other` in
   * /etc/fuse.conf).
   */
  allowOther?: boolean;
  /** Mount this directory of the volume (default `/`, the whole volume). */
  at?: string;
  /** Seconds the kernel caches attributes and entries (default 1). */
  ttl?: number;
  /** The store file's path (free space for unlimited volumes). */
  storePath?: string;
  /** Request receivers on pool threads (default 4). */
  receivers?: number;
  /** Told about unexpected failures (bugs), which reply EIO. */
  onError?: (e: unknown) => void;
}

/** A live mount; `await using` unmounts it at the end of the scope. */
export interface Mount extends AsyncDisposable {
  readonly mountpoint: string;
  /** Resolves when the mount is gone and every open file is committed. */
  readonly finished: Promise<void>;
  /** Unmounts (lazily: open files finish first) and waits for `finished`. */
  unmount(): Promise<void>;
  /** Ends the connection at once; clients with open files get errors. */
  abort(): Promise<void>;
  /** Open file handles. */
  readonly openFiles: number;
}

async function fusermount(args: string[]): Promise<{ ok: boolean; stderr: string }> {
  try {
    const out = await new Deno.Command("fusermount3", {
      args,
      stdout: "null",
      stderr: "piped",
    }).output();
    return { ok: out.success, stderr: new TextDecoder().decode(out.stderr).trim() };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new NotFound("fusermount3 is not installed (apt install fuse3)");
    }
    throw e;
  }
}

/** `major:minor` of a device number (glibc's encoding). */
function deviceName(dev: number): string {
  const d = BigInt(dev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/**
 * The device of the file system mounted at `path`, or null when `path` is
 * no mount point (its device is its parent's). Deno allows reading
 * /proc/self/mountinfo only with --allow-all, so this compares stats; an
 * async stat is safe even on our own mount.
 */
async function mountedDevice(path: string): Promise<string | null> {
  const [self, parent] = await Promise.all([Deno.stat(path), Deno.stat(dirname(path))]);
  if (self.dev === parent.dev && path !== "/") return null;
  return deviceName(self.dev);
}

/**
 * Makes sure `path` can be mounted on: a directory, not mounted already.
 * A stale FUSE mount ("Transport endpoint is not connected", left by a
 * process that was killed) is unmounted first.
 */
export async function prepareMountpoint(path: string): Promise<void> {
  let stale = false;
  try {
    const st = await Deno.stat(path);
    if (!st.isDirectory) throw new InvalidArgument("the mountpoint is not a directory", path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new NotFound("no such mountpoint", path);
    if (!((e as Error).message ?? "").includes("not connected")) throw e;
    stale = true;
  }
  if (stale) {
    // No file open on it: a plain unmount; otherwise detach it lazily.
    if (!(await fusermount(["-u", path])).ok) {
      const lazy = await fusermount(["-u", "-z", path]);
      if (!lazy.ok) throw new Busy(`could not clear a stale mount: ${lazy.stderr}`, path);
    }
    return;
  }
  if (await mountedDevice(path)) throw new Busy("something is already mounted here", path);
}

/** True when this process runs as root (false when it may not ask). */
function runsAsRoot(): boolean {
  if (Deno.permissions.querySync({ name: "sys", kind: "uid" }).state !== "granted") return false;
  return Deno.uid() === 0;
}

/** The node id of the directory `at` of `vol`, the mount's root. */
async function rootOf(vol: FileSystem & ByNode, at: string | undefined): Promise<number> {
  if (at === undefined || at === "/" || at === "") return vol.nodes.rootIno;
  const info = await vol.stat(at);
  if (!info.isDirectory) throw new InvalidArgument("--at needs a directory of the volume", at);
  return info.ino;
}

/** Mounts `vol` (or its directory `options.at`) at `mountpoint` until unmounted. */
export async function mount(
  vol: FileSystem & ByNode,
  mountpoint: string,
  options: MountOptions = {},
): Promise<Mount> {
  const path = resolve(mountpoint);
  const root = await rootOf(vol, options.at);
  await prepareMountpoint(path);
  const fs = new TroveFs(vol, {
    ttl: options.ttl,
    storePath: options.storePath,
    onError: options.onError,
    root,
  });
  const allowOther = options.allowOther ?? runsAsRoot();
  const at = root === vol.nodes.rootIno ? "" : options.at!.replace(/,/g, "_");
  const mountOptions = [
    `fsname=trove:${vol.name.replace(/,/g, "_")}${at}`,
    "subtype=trove",
    "default_permissions",
    ...(options.readOnly || vol.readOnly ? ["ro"] : []),
    ...(allowOther ? ["allow_other"] : []),
  ];
  const session = FuseSession.mount(path, fs, {
    options: mountOptions,
    receivers: options.receivers,
    onError: options.onError,
  });
  // The connection's number, for abort() (gone from view after a lazy unmount).
  const device = await mountedDevice(path).catch(() => null);
  // Read ahead a chunk at a time: the kernel's default (128 KiB) makes
  // eight requests of what one could carry. Best effort (root, or sysfs
  // writable).
  if (device) writeSysfs(`/sys/class/bdi/${device}/read_ahead_kb`, String(READ_AHEAD_KB));
  const finished = session.finished.then(async () => {
    await fs.close();
    session.destroy();
  });
  let unmounting: Promise<void> | null = null;
  const handle: Mount = {
    mountpoint: path,
    finished,
    get openFiles() {
      return fs.openFiles;
    },
    [Symbol.asyncDispose]() {
      return handle.unmount();
    },
    unmount() {
      unmounting ??= (async () => {
        const r = await fusermount(["-u", "-z", path]);
        if (!r.ok && (await mountedDevice(path).catch(() => null))) {
          throw new Busy(`unmount failed: ${r.stderr}`, path);
        }
        await finished;
      })();
      return unmounting;
    },
    async abort() {
      const minor = device?.split(":")[1];
      if (minor) writeSysfs(`/sys/fs/fuse/connections/${minor}/abort`, "1");
      await fusermount(["-u", "-z", path]).catch(() => {});
      await finished;
    },
  };
  return handle;
}
