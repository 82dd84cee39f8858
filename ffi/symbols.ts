/**
 * The libfuse3 symbols this binding calls, loading the library, and C
 * strings.
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
  /** The same call on this thread, for a non-blocking device (`-EAGAIN` when idle). */
  fuse_session_receive_buf_now: {
    name: "fuse_session_receive_buf",
    parameters: ["pointer", "buffer"],
    result: "i32",
  },
  fuse_session_process_buf: { parameters: ["pointer", "buffer"], result: "void" },
  fuse_session_fd: { parameters: ["pointer"], result: "i32" },
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

/** The C library calls the request loop needs: waiting on the device, making it non-blocking. */
const LIBC_SYMBOLS = {
  /** Waits on a pool thread until the device has a request (or the timeout). */
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
} as const;

/** The loaded C library. */
export type Libc = Deno.DynamicLibrary<typeof LIBC_SYMBOLS>;
let libc: Libc | null | undefined;

/** The C library, or null where it cannot be loaded (the loop then blocks on pool threads). */
export function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  try {
    libc = Deno.dlopen("libc.so.6", LIBC_SYMBOLS);
  } catch {
    libc = null;
  }
  return libc;
}

/** The loaded library. */
export type Lib = Deno.DynamicLibrary<typeof SYMBOLS>;
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

const encoder = new TextEncoder();

/** A NUL-terminated C string. */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** A request the kernel sent that cannot be served as is: answered with `errno`. */
export class ErrnoError extends Error {
  constructor(message: string, readonly errno: number) {
    super(message);
  }
}

const EILSEQ = 84;
const strict = new TextDecoder("utf-8", { fatal: true });

/**
 * The C string at `p` ("" for NULL). A string that is not UTF-8 is
 * refused (`EILSEQ`) rather than decoded with replacement characters: two
 * different names must never become one.
 */
export function readCString(p: Deno.PointerValue): string {
  if (p === null) return "";
  const s = Deno.UnsafePointerView.getCString(p);
  if (!s.includes("\uFFFD")) return s;
  // Rare: a real U+FFFD, or bytes that are not UTF-8. Read the bytes to tell.
  const v = new Deno.UnsafePointerView(p);
  const bytes: number[] = [];
  for (let i = 0, b; (b = v.getUint8(i)) !== 0; i++) bytes.push(b);
  try {
    return strict.decode(new Uint8Array(bytes));
  } catch {
    throw new ErrnoError("a name that is not UTF-8", EILSEQ);
  }
}
