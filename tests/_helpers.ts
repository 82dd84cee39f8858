/**
 * Shared test helpers: temporary stores, subprocesses, and tools that must
 * exist in CI (a missing tool fails there; elsewhere the test is ignored
 * with a note saying why).
 */

import { Store, type StoreOptions } from "../mod.ts";

/** True when running under CI (`CI=true`). */
export const IN_CI = Deno.env.get("CI") === "true";

/** A fresh temporary directory, removed by the returned disposer. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "trove-test-" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** A new store in a temporary directory; closing it removes the directory. */
export async function tempStore(
  options: StoreOptions = {},
): Promise<{ store: Store; path: string; dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "trove-test-" });
  const path = `${dir}/test.trove`;
  const store = await Store.open(path, { create: true, ...options });
  return {
    store,
    path,
    dir,
    async [Symbol.asyncDispose]() {
      await store.close().catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Deterministic pseudo-random bytes (xorshift), incompressible. */
export function randomBytes(n: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Compressible text of about `n` bytes. */
export function textBytes(n: number, seed = 7): Uint8Array<ArrayBuffer> {
  const words = ["alpha", "beta", "gamma", "delta", "store", "chunk", "volume", "file", "trove"];
  let x = seed;
  let s = "";
  while (s.length < n) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    s += words[x % words.length] + (x % 11 === 0 ? "\n" : " ");
  }
  return new TextEncoder().encode(s.slice(0, n));
}

/** True when two byte arrays are equal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** SHA-256 hex of bytes, for comparing big contents cheaply. */
export async function digest(b: Uint8Array): Promise<string> {
  const h = await crypto.subtle.digest("SHA-256", b as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(h), (x) => x.toString(16).padStart(2, "0")).join("");
}

/** The absolute path of a program on PATH, or null. */
export function which(tool: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      const p = `${dir}/${tool}`;
      if (Deno.statSync(p).isFile) return p;
    } catch { /* not here */ }
  }
  return null;
}

/**
 * Whether a test needing `tool` should be ignored: never in CI (there the
 * test runs and fails if the tool is missing), and elsewhere only when the
 * tool is missing, with a note on stderr.
 */
export function ignoreWithout(tool: string): boolean {
  if (IN_CI || which(tool)) return false;
  console.error(`note: '${tool}' is not installed; its tests are ignored here (CI installs it)`);
  return true;
}

/** URL of the test fixture scripts directory. */
export const FIXTURES = new URL("./fixtures/", import.meta.url);

/** Starts a Deno subprocess running a fixture script with full test permissions. */
export function spawnFixture(
  script: string,
  args: string[],
  options: { stdout?: "piped" | "null" | "inherit"; stderr?: "piped" | "null" | "inherit" } = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      new URL(script, FIXTURES).pathname,
      ...args,
    ],
    stdout: options.stdout ?? "piped",
    stderr: options.stderr ?? "piped",
  }).spawn();
}

/** Runs a command to completion; throws with its stderr if it fails. */
export async function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; stdin?: Uint8Array } = {},
): Promise<{ stdout: string; stderr: string; code: number }> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin) {
    const w = child.stdin.getWriter();
    await w.write(options.stdin);
    await w.close();
  }
  const out = await child.output();
  const res = {
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
    code: out.code,
  };
  if (out.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${out.code}: ${res.stderr}`);
  }
  return res;
}

/** Reads lines from a child's stdout until one satisfies `pred`. */
export async function waitForLine(
  child: Deno.ChildProcess,
  pred: (line: string) => boolean,
): Promise<string> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`child ended before the expected line; saw: ${buf}`);
      buf += value;
      const lines = buf.split("\n");
      buf = lines.pop()!;
      for (const l of lines) if (pred(l)) return l;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Processes that keep every core busy until disposed, as on a loaded machine. */
export function cpuLoad(n = navigator.hardwareConcurrency + 1): AsyncDisposable {
  const children = Array.from({ length: n }, () =>
    new Deno.Command(Deno.execPath(), {
      args: ["eval", "while (true) crypto.getRandomValues(new Uint8Array(65536));"],
      stdout: "null",
      stderr: "null",
    }).spawn());
  return {
    async [Symbol.asyncDispose]() {
      for (const c of children) c.kill("SIGKILL");
      await Promise.all(children.map((c) => c.status));
    },
  };
}

/** mulberry32: a small, seedable PRNG. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
    chance: (p: number) => next() < p,
  };
}
