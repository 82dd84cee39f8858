/**
 * A mounted FUSE session: the operation table built from `ops.ts`, the
 * mount, and the request loop — a few receivers on pool threads
 * (`fuse_session_receive_buf`, non-blocking), each request processed on
 * the JS thread (`fuse_session_process_buf`).
 *
 * @module
 */

import { FUSE_BUF_SIZE, OPS_SIZE } from "./layouts.ts";
import { cString, ErrnoError, type Lib, loadLibfuse } from "./symbols.ts";
import { type LowLevelHandlers, type OpEnv, OPERATIONS } from "./ops.ts";
import type { Request } from "./request.ts";

/** Options of {@linkcode FuseSession.mount}. */
export interface SessionOptions {
  /** Mount options, as for `-o` (e.g. `ro`, `allow_other`, `fsname=x`). */
  options: string[];
  /** Request receivers (pool threads) running at once; default 4. */
  receivers?: number;
  /** Called when a handler throws outside its own error handling. */
  onError?: (e: unknown) => void;
}

/** The operation table: every callback of `OPERATIONS` in its slot. */
function operationTable(env: OpEnv): { ops: Uint8Array; callbacks: Deno.UnsafeCallback[] } {
  const ops = new Uint8Array(OPS_SIZE);
  const view = new DataView(ops.buffer);
  const callbacks = OPERATIONS.map((op) => {
    const cb = new Deno.UnsafeCallback(
      { parameters: op.parameters, result: "void" } as const,
      ((...args: unknown[]) => op.run(env, ...args)) as never,
    );
    view.setBigUint64(op.slot * 8, BigInt(Deno.UnsafePointer.value(cb.pointer)), true);
    return cb;
  });
  return { ops, callbacks };
}

/** `struct fuse_args` for `fuse_session_new`: the program name, then `-o` options. */
function fuseArgs(options: string[]): { args: Uint8Array; keep: unknown[] } {
  const strings = ["trove", "-o", options.join(",")].map(cString);
  const argv = new BigUint64Array(strings.length + 1);
  strings.forEach((b, i) => argv[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b))));
  const args = new Uint8Array(24);
  const view = new DataView(args.buffer);
  view.setInt32(0, strings.length, true);
  view.setBigUint64(8, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(argv))), true);
  return { args, keep: [strings, argv, args] };
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
  readonly #keep: unknown[];
  readonly #callbacks: Deno.UnsafeCallback[];
  #destroyed = false;

  private constructor(
    lib: Lib,
    session: { se: Deno.PointerValue; mountpoint: string; keep: unknown[] },
    callbacks: Deno.UnsafeCallback[],
    receivers: number,
  ) {
    this.#lib = lib;
    this.#se = session.se;
    this.mountpoint = session.mountpoint;
    this.#keep = session.keep;
    this.#callbacks = callbacks;
    this.finished = this.#serve(receivers);
  }

  /** Creates a session with these handlers and mounts it at `mountpoint`. */
  static mount(
    mountpoint: string,
    handlers: LowLevelHandlers,
    options: SessionOptions,
  ): FuseSession {
    const lib = loadLibfuse();
    const s = lib.symbols;
    const onError = options.onError ?? ((e) => console.error("trove mount:", e));
    const guard = (r: Request, fn: () => void) => {
      try {
        fn();
      } catch (e) {
        if (e instanceof ErrnoError) return r.error(e.errno);
        onError(e);
        r.error(5);
      }
    };
    const { ops, callbacks } = operationTable({ lib, handlers, guard });
    const { args, keep } = fuseArgs(options.options);
    keep.push(ops);
    const close = () => callbacks.forEach((cb) => cb.close());
    const se = s.fuse_session_new(
      args as Uint8Array<ArrayBuffer>,
      ops as Uint8Array<ArrayBuffer>,
      BigInt(OPS_SIZE),
      null,
    );
    if (se === null) {
      close();
      throw new Error(`fuse_session_new failed (options: ${options.options.join(",")})`);
    }
    const mp = cString(mountpoint);
    keep.push(mp);
    if (s.fuse_session_mount(se, mp) !== 0) {
      s.fuse_session_destroy(se);
      close();
      throw new Error(`could not mount at ${mountpoint} (is /dev/fuse usable? see the log above)`);
    }
    return new FuseSession(lib, { se, mountpoint, keep }, callbacks, options.receivers ?? 4);
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
