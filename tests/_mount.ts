/**
 * Real kernel mounts for tests: `trove mount` runs as its own process with
 * the `mount` task's permission flags (the test process may then touch the
 * mount freely, even synchronously), and stops with SIGTERM like a user's
 * Ctrl-C. Without /dev/fuse or fusermount3 a test is skipped locally and
 * fails in CI.
 */

import { taskArgs } from "./_cli.ts";
import { IN_CI, run, which } from "./_helpers.ts";
import { Store } from "../mod.ts";

/** True when this machine can mount FUSE file systems. */
export function canMount(): boolean {
  if (which("fusermount3") === null) return false;
  // Deno wants --allow-all to look at a device; test(1) may.
  return new Deno.Command("test", { args: ["-c", "/dev/fuse"] }).outputSync().success;
}

/** `ignore` for a test that needs FUSE: never in CI, where it must fail instead. */
export function ignoreWithoutFuse(): boolean {
  return !canMount() && !IN_CI;
}

/** A `trove mount` process and its mountpoint. */
export interface Mounted {
  mnt: string;
  child: Deno.ChildProcess;
  /** Sends SIGTERM and waits for the process; resolves to its exit code. */
  stop(): Promise<number>;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
}

/**
 * Mounts the store at `dir/store.trove` (cwd `dir`) on `dir/mnt` with
 * `trove mount`, and waits until the kernel serves it.
 */
export async function startMount(
  dir: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<Mounted> {
  if (!canMount()) throw new Error("FUSE is not available: /dev/fuse or fusermount3 is missing");
  const mnt = `${dir}/mnt`;
  // A stale mount (after kill -9) stats as "not connected": leave it be.
  await Deno.mkdir(mnt).catch((e) => {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  });
  const child = new Deno.Command(Deno.execPath(), {
    args: [...taskArgs("mount", dir), "mnt", "--store", "store.trove", ...extra],
    cwd: dir,
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let err = "";
  (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) err += chunk;
  })();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("is mounted at")) {
    const { value, done } = await reader.read();
    if (done) {
      await child.status;
      throw new Error(`trove mount did not start: ${out}${err}`);
    }
    out += value;
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  let stopped: Promise<number> | null = null;
  return {
    mnt,
    child,
    stderr: () => err,
    stop() {
      stopped ??= (async () => {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
        const code = (await child.status).code;
        // Whatever happened, leave no mount behind (a no-op after a clean exit).
        await forceUnmount(mnt);
        return code;
      })();
      return stopped;
    },
  };
}

/** Unmounts whatever is left at `mnt` (after a killed process). */
export async function forceUnmount(mnt: string): Promise<void> {
  await new Deno.Command("fusermount3", { args: ["-u", "-z", mnt], stderr: "null" }).output()
    .catch(() => {});
}

/** Runs a bash script (strict mode) in `cwd`; its stdout. */
export async function sh(script: string, cwd: string): Promise<string> {
  return (await run("bash", ["-euo", "pipefail", "-c", script], { cwd })).stdout;
}

/** Creates the store `dir/store.trove` that `startMount` mounts. */
export async function newStore(dir: string, options: Parameters<typeof Store.open>[1] = {}) {
  await (await Store.open(`${dir}/store.trove`, { create: true, ...options })).close();
}

/** A fresh tmpfs, the reference POSIX file system (root mounts one). */
export async function tmpfsDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "trove-posix-ref-" });
  await run("mount", ["-t", "tmpfs", "-o", "size=256m,mode=0755", "trove-posix-ref", path]);
  return {
    path,
    async [Symbol.asyncDispose]() {
      await run("umount", [path]);
      await Deno.remove(path, { recursive: true });
    },
  };
}
