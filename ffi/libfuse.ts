/**
 * The libfuse3 low-level API over Deno FFI: symbols, struct layouts and the
 * request loop, with no knowledge of Trove. A {@linkcode FuseSession}
 * mounts, receives requests on a few pool threads
 * (`fuse_session_receive_buf` as a non-blocking FFI call), processes each
 * on the JS thread (`fuse_session_process_buf`), and hands it to a
 * {@linkcode LowLevelHandlers} method with a {@linkcode Request} that
 * replies exactly once — later, after awaits, if the handler is async.
 *
 * Layouts are libfuse 3.14 on x86_64 Linux (checked with `offsetof`):
 * see FUSE-NOTES in the design notes and the constants below.
 *
 * @module
 */

const LIB_NAMES = ["libfuse3.so.3", "libfuse3.so"];

const SYMBOLS = {
  fuse_session_new: { parameters: ["buffer", "buffer", "usize", "pointer"], result: "pointer" },
  fuse_session_mount: { parameters: ["pointer", "buffer"], result: "i32" },
  fuse_session_unmount: { parameters: ["pointer"], result: "void" },
  fuse_session_destroy: { parameters: ["pointer"], result: "void" },
  fuse_session_receive_buf: {
    parameters: ["pointer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  fuse_session_process_buf: { parameters: ["pointer", "buffer"], result: "void" },
  fuse_reply_err: { parameters: ["pointer", "i32"], result: "i32" },
  fuse_reply_none: { parameters: ["pointer"], result: "void" },
  fuse_reply_entry: { parameters: ["pointer", "buffer"], result: "i32" },
  fuse_reply_create: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  fuse_reply_attr: { parameters: ["pointer", "buffer", "f64"], result: "i32" },
  fuse_reply_readlink: { parameters: ["pointer", "buffer"], result: "i32" },
  fuse_reply_open: { parameters: ["pointer", "buffer"], result: "i32" },
  fuse_reply_write: { parameters: ["pointer", "usize"], result: "i32" },
  fuse_reply_buf: { parameters: ["pointer", "buffer", "usize"], result: "i32" },
  /** The same call on a pool thread: copying a large reply into the kernel takes a while. */
  fuse_reply_buf_async: {
    name: "fuse_reply_buf",
    parameters: ["pointer", "buffer", "usize"],
    result: "i32",
    nonblocking: true,
  },
  fuse_reply_statfs: { parameters: ["pointer", "buffer"], result: "i32" },
  fuse_reply_xattr: { parameters: ["pointer", "usize"], result: "i32" },
  fuse_reply_lseek: { parameters: ["pointer", "i64"], result: "i32" },
  fuse_add_direntry: {
    parameters: ["pointer", "buffer", "usize", "buffer", "buffer", "i64"],
    result: "usize",
  },
  fuse_add_direntry_plus: {
    parameters: ["pointer", "buffer", "usize", "buffer", "buffer", "i64"],
    result: "usize",
  },
  fuse_req_ctx: { parameters: ["pointer"], result: "pointer" },
} as const;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>;
let lib: Lib | null = null;

/** Loads libfuse3; a clear error when it is not installed. */
export function loadLibfuse(): Lib {
  if (lib) return lib;
  const errors: string[] = [];
  for (const name of LIB_NAMES) {
    try {
      lib = Deno.dlopen(name, SYMBOLS);
      return lib;
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  throw new Error(
    `libfuse3 is not installed (apt install fuse3): ${errors[errors.length - 1]}`,
  );
}

// ---- layouts -------------------------------------------------------------

/** `sizeof(struct fuse_lowlevel_ops)` and each operation's slot (× 8 bytes). */
const OPS_SIZE = 352;
export const OP = {
  init: 0,
  destroy: 1,
  lookup: 2,
  forget: 3,
  getattr: 4,
  setattr: 5,
  readlink: 6,
  mknod: 7,
  mkdir: 8,
  unlink: 9,
  rmdir: 10,
  symlink: 11,
  rename: 12,
  link: 13,
  open: 14,
  read: 15,
  write: 16,
  flush: 17,
  release: 18,
  fsync: 19,
  opendir: 20,
  readdir: 21,
  releasedir: 22,
  fsyncdir: 23,
  statfs: 24,
  setxattr: 25,
  getxattr: 26,
  listxattr: 27,
  removexattr: 28,
  create: 30,
  forget_multi: 38,
  fallocate: 40,
  readdirplus: 41,
  lseek: 43,
} as const;

/** Replies this large are copied into the kernel off the JS thread. */
const ASYNC_REPLY_BYTES = 256 << 10;
const STAT_SIZE = 144;
const ENTRY_SIZE = 176;
const STATVFS_SIZE = 112;
const FUSE_BUF_SIZE = 40;
const FILE_INFO_SIZE = 40;

/** `fuse_conn_info` capability bits this binding touches. */
export const CAP = {
  ASYNC_READ: 1,
  ATOMIC_O_TRUNC: 8,
  EXPORT_SUPPORT: 16,
  SPLICE_WRITE: 128,
  SPLICE_MOVE: 256,
  SPLICE_READ: 512,
  READDIRPLUS: 8192,
  READDIRPLUS_AUTO: 16384,
  WRITEBACK_CACHE: 65536,
  PARALLEL_DIROPS: 262144,
} as const;

/** `setattr`'s `to_set` bits. */
export const SET = {
  MODE: 1,
  UID: 2,
  GID: 4,
  SIZE: 8,
  ATIME: 16,
  MTIME: 32,
  ATIME_NOW: 128,
  MTIME_NOW: 256,
} as const;

/** What a reply says about a node: `struct stat` fields. */
export interface Attr {
  ino: bigint;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

const NS = 1_000_000_000n;

function putTime(v: DataView, at: number, ns: bigint): void {
  let sec = ns / NS;
  let nsec = ns % NS;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += NS;
  }
  v.setBigInt64(at, sec, true);
  v.setBigInt64(at + 8, nsec, true);
}

function writeStat(v: DataView, at: number, a: Attr): void {
  v.setBigUint64(at + 8, a.ino, true);
  v.setBigUint64(at + 16, BigInt(a.nlink), true);
  v.setUint32(at + 24, a.mode, true);
  v.setUint32(at + 28, a.uid, true);
  v.setUint32(at + 32, a.gid, true);
  v.setBigInt64(at + 48, BigInt(a.size), true);
  v.setBigInt64(at + 56, BigInt(a.blksize), true);
  v.setBigInt64(at + 64, BigInt(a.blocks), true);
  putTime(v, at + 72, a.atimeNs);
  putTime(v, at + 88, a.mtimeNs);
  putTime(v, at + 104, a.ctimeNs);
}

function statBuffer(a: Attr): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(STAT_SIZE);
  writeStat(new DataView(b.buffer), 0, a);
  return b;
}

function entryBuffer(a: Attr | null, ttl: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(ENTRY_SIZE);
  const v = new DataView(b.buffer);
  if (a) {
    v.setBigUint64(0, a.ino, true);
    writeStat(v, 16, a);
  }
  v.setFloat64(160, ttl, true);
  v.setFloat64(168, ttl, true);
  return b;
}

const encoder = new TextEncoder();

/** A NUL-terminated C string. */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

function readCString(p: Deno.PointerValue): string {
  return p === null ? "" : Deno.UnsafePointerView.getCString(p);
}

/** The caller of a request: `fuse_req_ctx`. */
export interface Caller {
  uid: number;
  gid: number;
  pid: number;
  umask: number;
}

/** Open-file flags a handler may set in its `open`/`create` reply. */
export interface OpenReply {
  fh: bigint;
  directIo?: boolean;
  keepCache?: boolean;
  nonSeekable?: boolean;
}

/** Filesystem figures for `statfs`. */
export interface StatFs {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  namemax: number;
}

/** One directory entry with its attributes, for readdirplus. */
export interface DirEntryAttr {
  name: string;
  attr: Attr;
  /** False for "." and "..", which the kernel does not count as lookups. */
  counted: boolean;
}

/**
 * One request from the kernel. Exactly one reply method must be called;
 * later calls are ignored (and a handler that throws is answered with the
 * errno its caller chooses).
 */
export class Request {
  readonly #lib: Lib;
  readonly #req: Deno.PointerValue;
  /**
   * A copy of the request's `fuse_file_info`: libfuse keeps the original
   * on its stack, gone once the callback returns, while replies come later.
   */
  readonly #fi: Uint8Array<ArrayBuffer> | null;
  #done = false;

  constructor(l: Lib, req: Deno.PointerValue, fi: Deno.PointerValue = null) {
    this.#lib = l;
    this.#req = req;
    this.#fi = fi === null
      ? null
      : new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(fi, FILE_INFO_SIZE)).slice();
  }

  /** True once a reply went out. */
  get answered(): boolean {
    return this.#done;
  }

  #once(): boolean {
    if (this.#done) return false;
    this.#done = true;
    return true;
  }

  /** Who made the request. */
  caller(): Caller {
    const p = this.#lib.symbols.fuse_req_ctx(this.#req);
    const v = new Deno.UnsafePointerView(p!);
    return {
      uid: v.getUint32(0),
      gid: v.getUint32(4),
      pid: v.getInt32(8),
      umask: v.getUint32(12),
    };
  }

  /** The request's `fuse_file_info` fields. */
  fileInfo(): { flags: number; fh: bigint } {
    if (this.#fi === null) return { flags: 0, fh: 0n };
    const v = new DataView(this.#fi.buffer);
    return { flags: v.getInt32(0, true), fh: v.getBigUint64(16, true) };
  }

  #setFileInfo(o: OpenReply): Uint8Array<ArrayBuffer> {
    const fi = this.#fi ?? new Uint8Array(FILE_INFO_SIZE);
    const mem = new DataView(fi.buffer);
    let bits = mem.getUint8(4) & ~(0x02 | 0x04 | 0x10);
    if (o.directIo) bits |= 0x02;
    if (o.keepCache) bits |= 0x04;
    if (o.nonSeekable) bits |= 0x10;
    mem.setUint8(4, bits);
    mem.setBigUint64(16, o.fh, true);
    return fi;
  }

  error(errno: number): void {
    if (this.#once()) this.#lib.symbols.fuse_reply_err(this.#req, errno);
  }

  none(): void {
    if (this.#once()) this.#lib.symbols.fuse_reply_none(this.#req);
  }

  entry(attr: Attr, ttl: number): void {
    if (this.#once()) this.#lib.symbols.fuse_reply_entry(this.#req, entryBuffer(attr, ttl));
  }

  /** A negative entry: "no such name", cached for `ttl` seconds. */
  noEntry(ttl: number): void {
    if (this.#once()) this.#lib.symbols.fuse_reply_entry(this.#req, entryBuffer(null, ttl));
  }

  create(attr: Attr, ttl: number, open: OpenReply): void {
    if (!this.#once()) return;
    const fi = this.#setFileInfo(open);
    this.#lib.symbols.fuse_reply_create(this.#req, entryBuffer(attr, ttl), fi);
  }

  attr(attr: Attr, ttl: number): void {
    if (this.#once()) this.#lib.symbols.fuse_reply_attr(this.#req, statBuffer(attr), ttl);
  }

  readlink(target: string): void {
    if (this.#once()) this.#lib.symbols.fuse_reply_readlink(this.#req, cString(target));
  }

  open(o: OpenReply): void {
    if (!this.#once()) return;
    this.#lib.symbols.fuse_reply_open(this.#req, this.#setFileInfo(o));
  }

  write(count: number): void {
    if (this.#once()) this.#lib.symbols.fuse_reply_write(this.#req, BigInt(count));
  }

  buffer(data: Uint8Array<ArrayBuffer>): void {
    if (!this.#once()) return;
    if (data.length >= ASYNC_REPLY_BYTES) {
      // The promise keeps `data` alive until the copy is done.
      void this.#lib.symbols.fuse_reply_buf_async(this.#req, data, BigInt(data.length));
    } else {
      this.#lib.symbols.fuse_reply_buf(this.#req, data, BigInt(data.length));
    }
  }

  statfs(s: StatFs): void {
    if (!this.#once()) return;
    const b = new Uint8Array(STATVFS_SIZE);
    const v = new DataView(b.buffer);
    const put = (at: number, n: number) =>
      v.setBigUint64(at, BigInt(Math.max(0, Math.floor(n))), true);
    put(0, s.bsize);
    put(8, s.bsize);
    put(16, s.blocks);
    put(24, s.bfree);
    put(32, s.bavail);
    put(40, s.files);
    put(48, s.ffree);
    put(56, s.ffree);
    put(80, s.namemax);
    this.#lib.symbols.fuse_reply_statfs(this.#req, b);
  }

  xattrSize(size: number): void {
    if (this.#once()) this.#lib.symbols.fuse_reply_xattr(this.#req, BigInt(size));
  }

  lseek(offset: number): void {
    if (this.#once()) this.#lib.symbols.fuse_reply_lseek(this.#req, BigInt(offset));
  }

  /**
   * Replies to readdir (`plus`: readdirplus) with as many of `entries`
   * (from index `first`) as fit in `size` bytes; entry i gets offset i + 1.
   * Returns how many went out.
   */
  direntries(
    entries: DirEntryAttr[],
    first: number,
    size: number,
    ttl: number,
    plus: boolean,
  ): number {
    if (!this.#once()) return 0;
    const out = new Uint8Array(size);
    const sym = this.#lib.symbols;
    let pos = 0;
    let i = first;
    for (; i < entries.length; i++) {
      const e = entries[i];
      const rest = out.subarray(pos);
      const n = Number(
        plus
          ? sym.fuse_add_direntry_plus(
            this.#req,
            rest,
            BigInt(size - pos),
            cString(e.name),
            e.counted ? entryBuffer(e.attr, ttl) : dotEntry(e.attr),
            BigInt(i + 1),
          )
          : sym.fuse_add_direntry(
            this.#req,
            rest,
            BigInt(size - pos),
            cString(e.name),
            statBuffer(e.attr),
            BigInt(i + 1),
          ),
      );
      if (n > size - pos) break;
      pos += n;
    }
    this.#lib.symbols.fuse_reply_buf(this.#req, out, BigInt(pos));
    return i - first;
  }
}

/** "." and ".." carry attributes but no entry: no lookup is counted. */
function dotEntry(a: Attr): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(ENTRY_SIZE);
  const v = new DataView(b.buffer);
  v.setBigUint64(16 + 8, a.ino, true);
  v.setUint32(16 + 24, a.mode, true);
  return b;
}

// ---- handlers ------------------------------------------------------------

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

function readAttr(p: Deno.PointerValue): Attr {
  const v = new Deno.UnsafePointerView(p!);
  const time = (at: number) => v.getBigInt64(at) * NS + v.getBigInt64(at + 8);
  return {
    ino: v.getBigUint64(8),
    nlink: Number(v.getBigUint64(16)),
    mode: v.getUint32(24),
    uid: v.getUint32(28),
    gid: v.getUint32(32),
    size: Number(v.getBigInt64(48)),
    blksize: Number(v.getBigInt64(56)),
    blocks: Number(v.getBigInt64(64)),
    atimeNs: time(72),
    mtimeNs: time(88),
    ctimeNs: time(104),
  };
}

// ---- the session ---------------------------------------------------------

/** Options of {@linkcode FuseSession.mount}. */
export interface SessionOptions {
  /** Mount options, as for `-o` (e.g. `ro`, `allow_other`, `fsname=x`). */
  options: string[];
  /** Request receivers (pool threads) running at once; default 4. */
  receivers?: number;
  /** Called when a handler throws outside its own error handling. */
  onError?: (e: unknown) => void;
}

/**
 * A mounted FUSE session. `finished` resolves when the kernel ends the
 * connection (after an unmount) and every receiver has stopped.
 */
export class FuseSession {
  readonly mountpoint: string;
  readonly finished: Promise<void>;
  readonly #lib: Lib;
  readonly #se: Deno.PointerValue;
  /** C memory that must outlive the session. */
  readonly #keep: unknown[] = [];
  readonly #callbacks: Deno.UnsafeCallback[] = [];
  #destroyed = false;

  private constructor(
    l: Lib,
    se: Deno.PointerValue,
    mountpoint: string,
    keep: unknown[],
    callbacks: Deno.UnsafeCallback[],
    receivers: number,
  ) {
    this.#lib = l;
    this.#se = se;
    this.mountpoint = mountpoint;
    this.#keep = keep;
    this.#callbacks = callbacks;
    this.finished = this.#serve(receivers);
  }

  /** Creates a session with these handlers and mounts it at `mountpoint`. */
  static mount(
    mountpoint: string,
    handlers: LowLevelHandlers,
    options: SessionOptions,
  ): FuseSession {
    const l = loadLibfuse();
    const keep: unknown[] = [];
    const callbacks: Deno.UnsafeCallback[] = [];
    const s = l.symbols;
    const onError = options.onError ?? ((e) => console.error("trove mount:", e));
    /** Runs a handler; a throw is answered with EIO and reported. */
    const guard = (r: Request, fn: () => void) => {
      try {
        fn();
      } catch (e) {
        onError(e);
        r.error(5);
      }
    };

    const ops = new Uint8Array(OPS_SIZE);
    const opsView = new DataView(ops.buffer);
    const def = <const P extends readonly Deno.NativeType[]>(
      slot: number,
      parameters: P,
      fn: (...args: Deno.FromNativeParameterTypes<P>) => void,
    ) => {
      const cb = new Deno.UnsafeCallback({ parameters, result: "void" } as const, fn as never);
      callbacks.push(cb);
      opsView.setBigUint64(slot * 8, BigInt(Deno.UnsafePointer.value(cb.pointer)), true);
    };
    const name = (p: Deno.PointerValue) => readCString(p);

    def(OP.init, ["pointer", "pointer"], (_userdata, connPtr) => {
      if (!handlers.init || connPtr === null) return;
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
      handlers.init(conn);
      mem.setUint32(8, conn.maxWrite, true);
      mem.setUint32(16, conn.maxReadahead, true);
      mem.setUint32(24, conn.want & conn.capable, true);
      mem.setUint32(28, conn.maxBackground, true);
      mem.setUint32(32, conn.congestionThreshold, true);
      mem.setUint32(36, conn.timeGran, true);
    });
    def(OP.lookup, ["pointer", "u64", "pointer"], (req, parent, n) => {
      const r = new Request(l, req);
      guard(r, () => handlers.lookup(r, parent, name(n)));
    });
    def(OP.forget, ["pointer", "u64", "u64"], (req, ino, nlookup) => {
      const r = new Request(l, req);
      guard(r, () => handlers.forget(r, ino, nlookup));
    });
    def(OP.forget_multi, ["pointer", "usize", "pointer"], (req, count, list) => {
      const r = new Request(l, req);
      const items: { ino: bigint; nlookup: bigint }[] = [];
      if (list !== null) {
        const v = new Deno.UnsafePointerView(list);
        for (let i = 0; i < Number(count); i++) {
          items.push({ ino: v.getBigUint64(i * 16), nlookup: v.getBigUint64(i * 16 + 8) });
        }
      }
      guard(r, () => handlers.forgetMulti(r, items));
    });
    def(OP.getattr, ["pointer", "u64", "pointer"], (req, ino, fi) => {
      const r = new Request(l, req, fi);
      guard(r, () => handlers.getattr(r, ino));
    });
    def(OP.setattr, ["pointer", "u64", "pointer", "i32", "pointer"], (req, ino, st, toSet, fi) => {
      const r = new Request(l, req, fi);
      guard(r, () => handlers.setattr(r, ino, readAttr(st), toSet, fi !== null));
    });
    def(OP.readlink, ["pointer", "u64"], (req, ino) => {
      const r = new Request(l, req);
      guard(r, () => handlers.readlink(r, ino));
    });
    def(OP.mknod, ["pointer", "u64", "pointer", "u32", "u64"], (req, parent, n, mode, rdev) => {
      const r = new Request(l, req);
      guard(r, () => handlers.mknod(r, parent, name(n), mode, rdev));
    });
    def(OP.mkdir, ["pointer", "u64", "pointer", "u32"], (req, parent, n, mode) => {
      const r = new Request(l, req);
      guard(r, () => handlers.mkdir(r, parent, name(n), mode));
    });
    def(OP.unlink, ["pointer", "u64", "pointer"], (req, parent, n) => {
      const r = new Request(l, req);
      guard(r, () => handlers.unlink(r, parent, name(n)));
    });
    def(OP.rmdir, ["pointer", "u64", "pointer"], (req, parent, n) => {
      const r = new Request(l, req);
      guard(r, () => handlers.rmdir(r, parent, name(n)));
    });
    def(OP.symlink, ["pointer", "pointer", "u64", "pointer"], (req, target, parent, n) => {
      const r = new Request(l, req);
      guard(r, () => handlers.symlink(r, name(target), parent, name(n)));
    });
    def(
      OP.rename,
      ["pointer", "u64", "pointer", "u64", "pointer", "u32"],
      (req, parent, n, newParent, newName, flags) => {
        const r = new Request(l, req);
        guard(r, () => handlers.rename(r, parent, name(n), newParent, name(newName), flags));
      },
    );
    def(OP.link, ["pointer", "u64", "u64", "pointer"], (req, ino, newParent, n) => {
      const r = new Request(l, req);
      guard(r, () => handlers.link(r, ino, newParent, name(n)));
    });
    def(OP.open, ["pointer", "u64", "pointer"], (req, ino, fi) => {
      const r = new Request(l, req, fi);
      guard(r, () => handlers.open(r, ino));
    });
    def(OP.read, ["pointer", "u64", "usize", "i64", "pointer"], (req, ino, size, off, fi) => {
      const r = new Request(l, req, fi);
      guard(r, () => handlers.read(r, ino, Number(size), Number(off)));
    });
    def(
      OP.write,
      ["pointer", "u64", "pointer", "usize", "i64", "pointer"],
      (req, ino, buf, size, off, fi) => {
        const r = new Request(l, req, fi);
        // The buffer is libfuse's and is reused once this callback returns.
        const n = Number(size);
        const data = n === 0 ? new Uint8Array(0) : new Uint8Array(
          Deno.UnsafePointerView.getArrayBuffer(buf!, n),
        ).slice();
        guard(r, () => handlers.write(r, ino, data, Number(off)));
      },
    );
    def(OP.flush, ["pointer", "u64", "pointer"], (req, ino, fi) => {
      const r = new Request(l, req, fi);
      guard(r, () => handlers.flush(r, ino));
    });
    def(OP.release, ["pointer", "u64", "pointer"], (req, ino, fi) => {
      const r = new Request(l, req, fi);
      guard(r, () => handlers.release(r, ino));
    });
    def(OP.fsync, ["pointer", "u64", "i32", "pointer"], (req, ino, datasync, fi) => {
      const r = new Request(l, req, fi);
      guard(r, () => handlers.fsync(r, ino, datasync !== 0));
    });
    def(OP.opendir, ["pointer", "u64", "pointer"], (req, ino, fi) => {
      const r = new Request(l, req, fi);
      guard(r, () => handlers.opendir(r, ino));
    });
    def(OP.readdir, ["pointer", "u64", "usize", "i64", "pointer"], (req, ino, size, off, fi) => {
      const r = new Request(l, req, fi);
      guard(r, () => handlers.readdir(r, ino, Number(size), Number(off), false));
    });
    def(
      OP.readdirplus,
      ["pointer", "u64", "usize", "i64", "pointer"],
      (req, ino, size, off, fi) => {
        const r = new Request(l, req, fi);
        guard(r, () => handlers.readdir(r, ino, Number(size), Number(off), true));
      },
    );
    def(OP.releasedir, ["pointer", "u64", "pointer"], (req, ino, fi) => {
      const r = new Request(l, req, fi);
      guard(r, () => handlers.releasedir(r, ino));
    });
    def(OP.fsyncdir, ["pointer", "u64", "i32", "pointer"], (req, ino, _datasync, fi) => {
      const r = new Request(l, req, fi);
      guard(r, () => handlers.fsyncdir(r, ino));
    });
    def(OP.statfs, ["pointer", "u64"], (req, ino) => {
      const r = new Request(l, req);
      guard(r, () => handlers.statfs(r, ino));
    });
    def(
      OP.setxattr,
      ["pointer", "u64", "pointer", "pointer", "usize", "i32"],
      (req, ino, n, value, size, flags) => {
        const r = new Request(l, req);
        const len = Number(size);
        const data = len === 0 || value === null
          ? new Uint8Array(0)
          : new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(value, len)).slice();
        guard(r, () => handlers.setxattr(r, ino, name(n), data, flags));
      },
    );
    def(OP.getxattr, ["pointer", "u64", "pointer", "usize"], (req, ino, n, size) => {
      const r = new Request(l, req);
      guard(r, () => handlers.getxattr(r, ino, name(n), Number(size)));
    });
    def(OP.listxattr, ["pointer", "u64", "usize"], (req, ino, size) => {
      const r = new Request(l, req);
      guard(r, () => handlers.listxattr(r, ino, Number(size)));
    });
    def(OP.removexattr, ["pointer", "u64", "pointer"], (req, ino, n) => {
      const r = new Request(l, req);
      guard(r, () => handlers.removexattr(r, ino, name(n)));
    });
    def(OP.create, ["pointer", "u64", "pointer", "u32", "pointer"], (req, parent, n, mode, fi) => {
      const r = new Request(l, req, fi);
      guard(r, () => handlers.create(r, parent, name(n), mode));
    });
    def(
      OP.fallocate,
      ["pointer", "u64", "i32", "i64", "i64", "pointer"],
      (req, ino, mode, off, len, fi) => {
        const r = new Request(l, req, fi);
        guard(r, () => handlers.fallocate(r, ino, mode, Number(off), Number(len)));
      },
    );
    def(OP.lseek, ["pointer", "u64", "i64", "i32", "pointer"], (req, ino, off, whence, fi) => {
      const r = new Request(l, req, fi);
      guard(r, () => handlers.lseek(r, ino, Number(off), whence));
    });

    // argv: the program name, then -o with the mount options.
    const argvStrings = ["trove", "-o", options.options.join(",")].map(cString);
    const argv = new BigUint64Array(argvStrings.length + 1);
    argvStrings.forEach((b, i) =>
      argv[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)))
    );
    const args = new Uint8Array(24);
    const argsView = new DataView(args.buffer);
    argsView.setInt32(0, argvStrings.length, true);
    argsView.setBigUint64(8, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(argv))), true);
    keep.push(ops, argvStrings, argv, args);

    const se = s.fuse_session_new(args, ops, BigInt(OPS_SIZE), null);
    if (se === null) {
      for (const cb of callbacks) cb.close();
      throw new Error(`fuse_session_new failed (options: ${options.options.join(",")})`);
    }
    const mp = cString(mountpoint);
    keep.push(mp);
    if (s.fuse_session_mount(se, mp) !== 0) {
      s.fuse_session_destroy(se);
      for (const cb of callbacks) cb.close();
      throw new Error(`could not mount at ${mountpoint} (is /dev/fuse usable? see the log above)`);
    }
    return new FuseSession(l, se, mountpoint, keep, callbacks, options.receivers ?? 4);
  }

  async #serve(receivers: number): Promise<void> {
    const s = this.#lib.symbols;
    const loop = async () => {
      const buf = new Uint8Array(FUSE_BUF_SIZE);
      this.#keep.push(buf);
      while (true) {
        const r = await s.fuse_session_receive_buf(this.#se, buf);
        if (r === -4 || r === -11) continue; // EINTR, EAGAIN
        if (r <= 0) return;
        s.fuse_session_process_buf(this.#se, buf);
      }
    };
    await Promise.all(Array.from({ length: receivers }, loop));
  }

  /**
   * Frees the session once `finished` resolved (the mount is gone). Must
   * not be called while requests are still being received.
   */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#lib.symbols.fuse_session_destroy(this.#se);
    for (const cb of this.#callbacks) cb.close();
    this.#keep.length = 0;
  }
}

// ---- sysfs ---------------------------------------------------------------

let libc:
  | Deno.DynamicLibrary<{
    open: { parameters: ["buffer", "i32"]; result: "i32" };
    write: { parameters: ["i32", "buffer", "usize"]; result: "isize" };
    close: { parameters: ["i32"]; result: "i32" };
  }>
  | null = null;

/**
 * Writes a short value to a sysfs file (a mount's read-ahead, a
 * connection's abort switch). Deno's own file API wants --allow-all for
 * /sys, where --allow-ffi already lets this binding do it. Returns false
 * when the file cannot be written (not root, no such file).
 */
export function writeSysfs(path: string, value: string): boolean {
  if (!path.startsWith("/sys/")) throw new Error(`not a sysfs path: ${path}`);
  libc ??= Deno.dlopen("libc.so.6", {
    open: { parameters: ["buffer", "i32"], result: "i32" },
    write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
    close: { parameters: ["i32"], result: "i32" },
  });
  const O_WRONLY = 1;
  const fd = libc.symbols.open(cString(path), O_WRONLY);
  if (fd < 0) return false;
  const bytes = encoder.encode(value);
  const n = libc.symbols.write(fd, bytes, BigInt(bytes.length));
  libc.symbols.close(fd);
  return Number(n) === bytes.length;
}
