/**
 * Special files on the host: `trove get` recreates a volume's FIFOs,
 * sockets and devices with mknod(2) from libc, through FFI (Deno has no
 * mknod of its own). Without FFI (no --allow-ffi) they are skipped, and
 * the caller says so.
 *
 * @module
 */

import type { FileInfo } from "../mod.ts";

const S_IFMT = 0o170000;
let libc: { symbols: { mknod(path: BufferSource, mode: number, dev: bigint): number } } | null =
  null;

function load(): typeof libc {
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
  libc ??= Deno.dlopen("libc.so.6", {
    mknod: { parameters: ["buffer", "u32", "u64"], result: "i32" },
  });
  return libc;
}

/**
 * Makes the special file `info` describes at host path `path`; false when
 * this process cannot (no FFI permission). A failing mknod(2) throws (for
 * example `PermissionDenied` for a device made by a non-root user).
 */
export function hostMknod(path: string, info: FileInfo): boolean {
  const lib = load();
  if (!lib) return false;
  const mode = (info.mode & S_IFMT) | (info.mode & 0o7777);
  const cpath = new TextEncoder().encode(path + "\0");
  if (lib.symbols.mknod(cpath, mode, BigInt(info.rdev)) !== 0) {
    // Deno.errors from errno: stat tells what is in the way, if anything.
    try {
      Deno.lstatSync(path);
    } catch {
      throw new Deno.errors.PermissionDenied(`mknod failed: ${path}`);
    }
    throw new Deno.errors.AlreadyExists(`mknod failed, something is in the way: ${path}`);
  }
  return true;
}
