/**
 * The libfuse3 low-level API over Deno FFI, with no knowledge of Trove:
 * the symbols this binding calls (`symbols.ts`), the struct layouts
 * (`layouts.ts`), one request and its single reply (`request.ts`), the
 * operations a file system implements and how their C callbacks decode
 * their arguments (`ops.ts`), and the session that mounts and runs the
 * request loop (`session.ts`). A {@linkcode FuseSession} receives requests
 * on a few pool threads (`fuse_session_receive_buf` as a non-blocking FFI
 * call), processes each on the JS thread (`fuse_session_process_buf`), and
 * hands it to a {@linkcode LowLevelHandlers} method with a
 * {@linkcode Request} that replies exactly once — later, after awaits, if
 * the handler is async.
 *
 * @module
 */

export { cString, loadLibfuse } from "./symbols.ts";
export { type Attr, CAP, SET } from "./layouts.ts";
export { type ConnInfo, type LowLevelHandlers } from "./ops.ts";
export { type Caller, type DirEntryAttr, type OpenReply, Request, type StatFs } from "./request.ts";
export { FuseSession, type SessionOptions } from "./session.ts";
export { writeSysfs } from "./sysfs.ts";
