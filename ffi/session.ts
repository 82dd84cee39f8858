/**
 * A mounted FUSE session: the operation table built from `ops.ts`, the
 * mount, and the request loop. The device is made non-blocking and read on
 * the JS thread (`fuse_session_receive_buf`, then
 * `fuse_session_process_buf`); when it is idle the loop spins briefly for
 * the next request, then waits in `poll(2)` on a pool thread. A blocked
 * pool thread that wakes, then wakes the event loop, costs ~150 µs a
 * request on a VM, where a client's next request usually comes within
 * tens of µs of the last reply. Without the C library, a few receivers
 * block on pool threads instead.
 *
 * @module
 */

import { FUSE_BUF_SIZE, OPS_SIZE } from "./layouts.ts";
import { cString, ErrnoError, type Lib, type Libc, loadLibc, loadLibfuse } from "./symbols.ts";
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

const EINTR = -4;
const EAGAIN = -11;
const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;
const POLLIN = 1;
/** How long an idle loop keeps looking for the next request before it waits in `poll`. */
const SPIN_MS = 0.15;
/**
 * Microtask turns given to the handlers between two reads of the device:
 * an async handler replies after a few dozen, and a read between each
 * would hold its reply back by a system call per turn.
 */
const YIELDS = 32;
/** Longest run of requests processed without a turn of the event loop. */
const TURN_MS = 2;

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
    const libc = loadLibc();
    const fd = this.#lib.symbols.fuse_session_fd(this.#se);
    const flags = libc ? libc.symbols.fcntl(fd, F_GETFL, 0) : -1;
    if (libc && flags >= 0 && libc.symbols.fcntl(fd, F_SETFL, flags | O_NONBLOCK) === 0) {
      return await this.#serveHere(libc, fd);
    }
    const s = this.#lib.symbols;
    const loop = async () => {
      const buf = new Uint8Array(FUSE_BUF_SIZE);
      this.#keep.push(buf);
      while (true) {
        const r = await s.fuse_session_receive_buf(this.#se, buf);
        if (r === EINTR || r === EAGAIN) continue;
        if (r <= 0) return;
        s.fuse_session_process_buf(this.#se, buf);
      }
    };
    await Promise.all(Array.from({ length: receivers }, loop));
  }

  /**
   * The loop over a non-blocking device: each request read and processed
   * on this thread; the handlers' replies go out as their microtasks run
   * (each turn yields to them). Ends when the kernel ends the connection.
   */
  async #serveHere(libc: Libc, fd: number): Promise<void> {
    const s = this.#lib.symbols;
    const buf = new Uint8Array(FUSE_BUF_SIZE);
    const pfd = new Uint8Array(8);
    new DataView(pfd.buffer).setInt32(0, fd, true);
    new DataView(pfd.buffer).setInt16(4, POLLIN, true);
    this.#keep.push(buf, pfd);
    let idleSince = -1;
    let turn = performance.now();
    while (true) {
      const r = s.fuse_session_receive_buf_now(this.#se, buf);
      if (r > 0) {
        s.fuse_session_process_buf(this.#se, buf);
        idleSince = -1;
        for (let i = 0; i < YIELDS; i++) await null;
        // Under a steady stream of requests, still let the event loop run
        // (Worker replies, timers, replies sent from pool threads).
        if (performance.now() - turn > TURN_MS) {
          await libc.symbols.poll(pfd, 1n, 0);
          turn = performance.now();
        }
        continue;
      }
      if (r === EINTR) continue;
      if (r !== EAGAIN) return; // 0: unmounted or aborted
      const now = performance.now();
      if (idleSince < 0) idleSince = now;
      if (now - idleSince < SPIN_MS) {
        for (let i = 0; i < YIELDS; i++) await null;
        continue;
      }
      idleSince = -1;
      await libc.symbols.poll(pfd, 1n, 1000);
      turn = performance.now();
    }
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
