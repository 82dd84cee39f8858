/**
 * One request from the kernel and its reply: every reply method answers
 * the request exactly once (later calls are ignored), through the
 * `fuse_reply_*` calls.
 *
 * @module
 */

import {
  ASYNC_REPLY_BYTES,
  type Attr,
  dotEntry,
  entryBuffer,
  FILE_INFO_SIZE,
  statBuffer,
  STATVFS_SIZE,
} from "./layouts.ts";
import { cString, type Lib } from "./symbols.ts";

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
