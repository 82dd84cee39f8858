/**
 * Writing small values to sysfs (a mount's read-ahead, a connection's
 * abort switch) through libc, which `--allow-ffi` already allows.
 *
 * @module
 */

import { cString } from "./symbols.ts";

const encoder = new TextEncoder();

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
