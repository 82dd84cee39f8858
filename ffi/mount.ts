/**
 * Mounting a volume: checks the mountpoint (clearing a stale mount a
 * killed process left), starts the FUSE session, and unmounts cleanly —
 * `fusermount3 -u -z`, then serving until the kernel ends the connection,
 * so requests in flight are answered and no client hangs; open files are
 * committed and closed before `finished` resolves.
 *
 * @module
 */

import { resolve } from "node:path";
import { Busy, InvalidArgument, NotFound, type Volume } from "../mod.ts";
import { FuseSession } from "./libfuse.ts";
import { TroveFs } from "./trovefs.ts";

/** Options of {@linkcode mount}. */
export interface MountOptions {
  /** Mount read-only (the volume should be opened read-only too). */
  readOnly?: boolean;
  /** Let users other than the one mounting use the mount. */
  allowOther?: boolean;
  /** Seconds the kernel caches attributes and entries (default 1). */
  ttl?: number;
  /** The store file's path (free space for unlimited volumes). */
  storePath?: string;
  /** Request receivers on pool threads (default 4). */
  receivers?: number;
  /** Told about unexpected failures (bugs), which reply EIO. */
  onError?: (e: unknown) => void;
}

/** A live mount. */
export interface Mount {
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

/** The mount table entry of `path` (`/proc/self/mountinfo`), if it is a mount point. */
async function mountEntry(path: string): Promise<{ device: string; fstype: string } | null> {
  let text: string;
  try {
    text = await Deno.readTextFile("/proc/self/mountinfo");
  } catch {
    return null;
  }
  const unescape = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    if (f.length < 10 || unescape(f[4]) !== path) continue;
    const dash = f.indexOf("-");
    return { device: f[2], fstype: f[dash + 1] ?? "" };
  }
  return null;
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
  const entry = await mountEntry(path);
  if (entry) throw new Busy(`already mounted (${entry.fstype})`, path);
}

/** Mounts `vol` at `mountpoint` until unmounted. */
export async function mount(
  vol: Volume,
  mountpoint: string,
  options: MountOptions = {},
): Promise<Mount> {
  const path = resolve(mountpoint);
  await prepareMountpoint(path);
  const fs = new TroveFs(vol, {
    ttl: options.ttl,
    storePath: options.storePath,
    onError: options.onError,
  });
  const mountOptions = [
    `fsname=trove:${vol.name}`,
    "subtype=trove",
    "default_permissions",
    ...(options.readOnly || vol.readOnly ? ["ro"] : []),
    ...(options.allowOther ? ["allow_other"] : []),
  ];
  const session = FuseSession.mount(path, fs, {
    options: mountOptions,
    receivers: options.receivers,
    onError: options.onError,
  });
  // The connection's number, for abort() (the entry goes with a lazy unmount).
  const device = (await mountEntry(path))?.device;
  const finished = session.finished.then(async () => {
    await fs.close();
    session.destroy();
  });
  let unmounting: Promise<void> | null = null;
  return {
    mountpoint: path,
    finished,
    get openFiles() {
      return fs.openFiles;
    },
    unmount() {
      unmounting ??= (async () => {
        const r = await fusermount(["-u", "-z", path]);
        if (!r.ok && (await mountEntry(path))) {
          throw new Busy(`unmount failed: ${r.stderr}`, path);
        }
        await finished;
      })();
      return unmounting;
    },
    async abort() {
      const minor = device?.split(":")[1];
      if (minor) {
        await Deno.writeTextFile(`/sys/fs/fuse/connections/${minor}/abort`, "1").catch(() => {});
      }
      await fusermount(["-u", "-z", path]).catch(() => {});
      await finished;
    },
  };
}
