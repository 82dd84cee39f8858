/**
 * The operations a file system implements (`LowLevelHandlers`, every
 * argument decoded), and the table of C callbacks that decode each
 * operation's arguments from libfuse's and hand them over. Data the kernel
 * passes (a write's buffer, an xattr's value) is copied before the
 * callback returns: libfuse reuses it.
 *
 * @module
 */

import { type Attr, OP, readAttr } from "./layouts.ts";
import { type Lib, readCString } from "./symbols.ts";
import { Request } from "./request.ts";

/** What the filesystem implements; every argument already decoded. */
export interface LowLevelHandlers {
  init?(conn: ConnInfo): void;
  lookup(r: Request, parent: bigint, name: string): void;
  forget(r: Request, ino: bigint, nlookup: bigint): void;
  forgetMulti(r: Request, items: { ino: bigint; nlookup: bigint }[]): void;
  getattr(r: Request, ino: bigint): void;
  setattr(r: Request, ino: bigint, attr: Attr, toSet: number, hasFile: boolean): void;
  readlink(r: Request, ino: bigint): void;
  mknod(r: Request, parent: bigint, name: string, mode: number, rdev: bigint): void;
  mkdir(r: Request, parent: bigint, name: string, mode: number): void;
  unlink(r: Request, parent: bigint, name: string): void;
  rmdir(r: Request, parent: bigint, name: string): void;
  symlink(r: Request, target: string, parent: bigint, name: string): void;
  rename(
    r: Request,
    parent: bigint,
    name: string,
    newParent: bigint,
    newName: string,
    flags: number,
  ): void;
  link(r: Request, ino: bigint, newParent: bigint, newName: string): void;
  open(r: Request, ino: bigint): void;
  read(r: Request, ino: bigint, size: number, offset: number): void;
  /** `data` is a copy, safe to keep across awaits. */
  write(r: Request, ino: bigint, data: Uint8Array, offset: number): void;
  flush(r: Request, ino: bigint): void;
  release(r: Request, ino: bigint): void;
  fsync(r: Request, ino: bigint, dataOnly: boolean): void;
  opendir(r: Request, ino: bigint): void;
  readdir(r: Request, ino: bigint, size: number, offset: number, plus: boolean): void;
  releasedir(r: Request, ino: bigint): void;
  fsyncdir(r: Request, ino: bigint): void;
  statfs(r: Request, ino: bigint): void;
  setxattr(r: Request, ino: bigint, name: string, value: Uint8Array, flags: number): void;
  getxattr(r: Request, ino: bigint, name: string, size: number): void;
  listxattr(r: Request, ino: bigint, size: number): void;
  removexattr(r: Request, ino: bigint, name: string): void;
  create(r: Request, parent: bigint, name: string, mode: number): void;
  fallocate(r: Request, ino: bigint, mode: number, offset: number, length: number): void;
  lseek(r: Request, ino: bigint, offset: number, whence: number): void;
}

/** The negotiable part of `struct fuse_conn_info`, seen in `init`. */
export interface ConnInfo {
  capable: number;
  want: number;
  maxWrite: number;
  maxReadahead: number;
  maxBackground: number;
  congestionThreshold: number;
  timeGran: number;
}

/** What every callback has at hand. */
export interface OpEnv {
  lib: Lib;
  handlers: LowLevelHandlers;
  /** Runs a handler; a throw is answered with EIO and reported. */
  guard(r: Request, fn: () => void): void;
}

/** One slot of `struct fuse_lowlevel_ops`: its C parameters and what the callback does. */
export interface OpSpec {
  slot: number;
  parameters: readonly Deno.NativeType[];
  // deno-lint-ignore no-explicit-any
  run(env: OpEnv, ...args: any[]): void;
}

const name = (p: Deno.PointerValue) => readCString(p);
const copy = (p: Deno.PointerValue, n: number) =>
  n === 0 || p === null
    ? new Uint8Array(0)
    : new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(p, n)).slice();

/** A request with its `fuse_file_info`, handed to `call`. */
function withFile(
  env: OpEnv,
  req: Deno.PointerValue,
  fi: Deno.PointerValue,
  call: (r: Request) => void,
): void {
  const r = new Request(env.lib, req, fi);
  env.guard(r, () => call(r));
}

/** A request without a file, handed to `call`. */
function plain(env: OpEnv, req: Deno.PointerValue, call: (r: Request) => void): void {
  withFile(env, req, null, call);
}

/** `init`: the connection's parameters, negotiated by the handlers. */
function init(env: OpEnv, _userdata: Deno.PointerValue, connPtr: Deno.PointerValue): void {
  if (!env.handlers.init || connPtr === null) return;
  const mem = new DataView(Deno.UnsafePointerView.getArrayBuffer(connPtr, 128));
  const conn: ConnInfo = {
    maxWrite: mem.getUint32(8, true),
    maxReadahead: mem.getUint32(16, true),
    capable: mem.getUint32(20, true),
    want: mem.getUint32(24, true),
    maxBackground: mem.getUint32(28, true),
    congestionThreshold: mem.getUint32(32, true),
    timeGran: mem.getUint32(36, true),
  };
  env.handlers.init(conn);
  mem.setUint32(8, conn.maxWrite, true);
  mem.setUint32(16, conn.maxReadahead, true);
  mem.setUint32(24, conn.want & conn.capable, true);
  mem.setUint32(28, conn.maxBackground, true);
  mem.setUint32(32, conn.congestionThreshold, true);
  mem.setUint32(36, conn.timeGran, true);
}

/** `forget_multi`: the array of (ino, nlookup) pairs. */
function forgetMulti(
  env: OpEnv,
  req: Deno.PointerValue,
  count: bigint,
  list: Deno.PointerValue,
): void {
  const items: { ino: bigint; nlookup: bigint }[] = [];
  if (list !== null) {
    const v = new Deno.UnsafePointerView(list);
    for (let i = 0; i < Number(count); i++) {
      items.push({ ino: v.getBigUint64(i * 16), nlookup: v.getBigUint64(i * 16 + 8) });
    }
  }
  plain(env, req, (r) => env.handlers.forgetMulti(r, items));
}

const P = "pointer";
const U64 = "u64";

/** Every operation this binding serves, by slot. */
export const OPERATIONS: readonly OpSpec[] = [
  { slot: OP.init, parameters: [P, P], run: init },
  {
    slot: OP.lookup,
    parameters: [P, U64, P],
    run: (e, req, parent, n) => plain(e, req, (r) => e.handlers.lookup(r, parent, name(n))),
  },
  {
    slot: OP.forget,
    parameters: [P, U64, U64],
    run: (e, req, ino, nlookup) => plain(e, req, (r) => e.handlers.forget(r, ino, nlookup)),
  },
  { slot: OP.forget_multi, parameters: [P, "usize", P], run: forgetMulti },
  {
    slot: OP.getattr,
    parameters: [P, U64, P],
    run: (e, req, ino, fi) => withFile(e, req, fi, (r) => e.handlers.getattr(r, ino)),
  },
  {
    slot: OP.setattr,
    parameters: [P, U64, P, "i32", P],
    run: (e, req, ino, st, toSet, fi) =>
      withFile(e, req, fi, (r) => e.handlers.setattr(r, ino, readAttr(st), toSet, fi !== null)),
  },
  {
    slot: OP.readlink,
    parameters: [P, U64],
    run: (e, req, ino) => plain(e, req, (r) => e.handlers.readlink(r, ino)),
  },
  {
    slot: OP.mknod,
    parameters: [P, U64, P, "u32", U64],
    run: (e, req, parent, n, mode, rdev) =>
      plain(e, req, (r) => e.handlers.mknod(r, parent, name(n), mode, rdev)),
  },
  {
    slot: OP.mkdir,
    parameters: [P, U64, P, "u32"],
    run: (e, req, parent, n, mode) =>
      plain(e, req, (r) => e.handlers.mkdir(r, parent, name(n), mode)),
  },
  {
    slot: OP.unlink,
    parameters: [P, U64, P],
    run: (e, req, parent, n) => plain(e, req, (r) => e.handlers.unlink(r, parent, name(n))),
  },
  {
    slot: OP.rmdir,
    parameters: [P, U64, P],
    run: (e, req, parent, n) => plain(e, req, (r) => e.handlers.rmdir(r, parent, name(n))),
  },
  {
    slot: OP.symlink,
    parameters: [P, P, U64, P],
    run: (e, req, target, parent, n) =>
      plain(e, req, (r) => e.handlers.symlink(r, name(target), parent, name(n))),
  },
  {
    slot: OP.rename,
    parameters: [P, U64, P, U64, P, "u32"],
    run: (e, req, parent, n, newParent, newName, flags) =>
      plain(e, req, (r) => e.handlers.rename(r, parent, name(n), newParent, name(newName), flags)),
  },
  {
    slot: OP.link,
    parameters: [P, U64, U64, P],
    run: (e, req, ino, newParent, n) =>
      plain(e, req, (r) => e.handlers.link(r, ino, newParent, name(n))),
  },
  {
    slot: OP.open,
    parameters: [P, U64, P],
    run: (e, req, ino, fi) => withFile(e, req, fi, (r) => e.handlers.open(r, ino)),
  },
  {
    slot: OP.read,
    parameters: [P, U64, "usize", "i64", P],
    run: (e, req, ino, size, off, fi) =>
      withFile(e, req, fi, (r) => e.handlers.read(r, ino, Number(size), Number(off))),
  },
  {
    // The buffer is libfuse's and is reused once this callback returns.
    slot: OP.write,
    parameters: [P, U64, P, "usize", "i64", P],
    run: (e, req, ino, buf, size, off, fi) => {
      const data = copy(buf, Number(size));
      withFile(e, req, fi, (r) => e.handlers.write(r, ino, data, Number(off)));
    },
  },
  {
    slot: OP.flush,
    parameters: [P, U64, P],
    run: (e, req, ino, fi) => withFile(e, req, fi, (r) => e.handlers.flush(r, ino)),
  },
  {
    slot: OP.release,
    parameters: [P, U64, P],
    run: (e, req, ino, fi) => withFile(e, req, fi, (r) => e.handlers.release(r, ino)),
  },
  {
    slot: OP.fsync,
    parameters: [P, U64, "i32", P],
    run: (e, req, ino, datasync, fi) =>
      withFile(e, req, fi, (r) => e.handlers.fsync(r, ino, datasync !== 0)),
  },
  {
    slot: OP.opendir,
    parameters: [P, U64, P],
    run: (e, req, ino, fi) => withFile(e, req, fi, (r) => e.handlers.opendir(r, ino)),
  },
  {
    slot: OP.readdir,
    parameters: [P, U64, "usize", "i64", P],
    run: (e, req, ino, size, off, fi) =>
      withFile(e, req, fi, (r) => e.handlers.readdir(r, ino, Number(size), Number(off), false)),
  },
  {
    slot: OP.readdirplus,
    parameters: [P, U64, "usize", "i64", P],
    run: (e, req, ino, size, off, fi) =>
      withFile(e, req, fi, (r) => e.handlers.readdir(r, ino, Number(size), Number(off), true)),
  },
  {
    slot: OP.releasedir,
    parameters: [P, U64, P],
    run: (e, req, ino, fi) => withFile(e, req, fi, (r) => e.handlers.releasedir(r, ino)),
  },
  {
    slot: OP.fsyncdir,
    parameters: [P, U64, "i32", P],
    run: (e, req, ino, _datasync, fi) => withFile(e, req, fi, (r) => e.handlers.fsyncdir(r, ino)),
  },
  {
    slot: OP.statfs,
    parameters: [P, U64],
    run: (e, req, ino) => plain(e, req, (r) => e.handlers.statfs(r, ino)),
  },
  {
    slot: OP.setxattr,
    parameters: [P, U64, P, P, "usize", "i32"],
    run: (e, req, ino, n, value, size, flags) => {
      const data = copy(value, Number(size));
      plain(e, req, (r) => e.handlers.setxattr(r, ino, name(n), data, flags));
    },
  },
  {
    slot: OP.getxattr,
    parameters: [P, U64, P, "usize"],
    run: (e, req, ino, n, size) =>
      plain(e, req, (r) => e.handlers.getxattr(r, ino, name(n), Number(size))),
  },
  {
    slot: OP.listxattr,
    parameters: [P, U64, "usize"],
    run: (e, req, ino, size) => plain(e, req, (r) => e.handlers.listxattr(r, ino, Number(size))),
  },
  {
    slot: OP.removexattr,
    parameters: [P, U64, P],
    run: (e, req, ino, n) => plain(e, req, (r) => e.handlers.removexattr(r, ino, name(n))),
  },
  {
    slot: OP.create,
    parameters: [P, U64, P, "u32", P],
    run: (e, req, parent, n, mode, fi) =>
      withFile(e, req, fi, (r) => e.handlers.create(r, parent, name(n), mode)),
  },
  {
    slot: OP.fallocate,
    parameters: [P, U64, "i32", "i64", "i64", P],
    run: (e, req, ino, mode, off, len, fi) =>
      withFile(e, req, fi, (r) => e.handlers.fallocate(r, ino, mode, Number(off), Number(len))),
  },
  {
    slot: OP.lseek,
    parameters: [P, U64, "i64", "i32", P],
    run: (e, req, ino, off, whence, fi) =>
      withFile(e, req, fi, (r) => e.handlers.lseek(r, ino, Number(off), whence)),
  },
];
