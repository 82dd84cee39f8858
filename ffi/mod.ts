/**
 * Mounting a volume from code: the kernel mount (libfuse3 over Deno FFI)
 * without the CLI. This entry point is separate from the library's
 * (`mod.ts`) so that programs that never mount need no `--allow-ffi`; a
 * mount needs `--allow-ffi`, `--allow-run=fusermount3`, `--allow-read`
 * and `--allow-write` on the store (and `--allow-sys=uid` to tell whether
 * it runs as root, which decides {@linkcode MountOptions.allowOther}).
 *
 * The process that serves a mount answers the kernel on its JS thread, so
 * it must not use the mount on that thread: Deno checks a path's
 * permissions there, synchronously (unless it runs with `--allow-all`),
 * and would wait for an answer only it can give. Use the mount from other
 * processes or from Workers.
 *
 * ```ts ignore
 * import { Store } from "/path/to/trove/mod.ts";
 * import { mount } from "/path/to/trove/ffi/mod.ts";
 *
 * await using store = await Store.open("notes.trove", { create: true });
 * const vol = await store.volume();
 * {
 *   await using m = await mount(vol, "/mnt/notes", { at: "/projects" });
 *   await new Deno.Command("cp", { args: ["plan.md", m.mountpoint] }).output();
 * } // unmounted here: open files committed, the kernel connection ended
 * console.log(await vol.readTextFile("/projects/plan.md")); // through the library
 * ```
 *
 * @module
 */

export { type Mount, mount, type MountOptions, prepareMountpoint } from "./mount.ts";
