/**
 * What a new user hits first, each as the user would do it: the library
 * imported from a script outside the repository, the CLI with its options
 * where people type them, relative paths from where they stand, and the
 * messages they read.
 */

import { assert, assertEquals } from "./_assert.ts";
import { trove, troveOk } from "./_cli.ts";
import { cpuLoad, randomBytes, tempDir, waitForLine } from "./_helpers.ts";
import { Store } from "../mod.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const MOD = new URL("../mod.ts", import.meta.url).pathname;

/**
 * The environment a user's shell would give: ours without `INIT_CWD`, which
 * `deno task test` set and `deno task` would keep instead of setting its own.
 */
function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  return { ...env, NO_COLOR: "1", ...extra };
}

/** Runs `deno ARGS` in `cwd` as a user's shell would. */
async function deno(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    clearEnv: true,
    env: userEnv(env),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    ms: performance.now() - t0,
  };
}

Deno.test("a script outside the repository imports mod.ts by path and runs with plain deno run", async () => {
  await using dir = await tempDir();
  const script = `${dir.path}/main.ts`;
  await Deno.writeTextFile(
    script,
    `import { Store } from ${JSON.stringify(MOD)};
const store = await Store.open(Deno.args[0], { create: true });
const vol = await store.volume();
await vol.writeTextFile("/hello.txt", "hi from elsewhere");
await vol.writeFile("/big.bin", new Uint8Array(3 << 20).fill(7));
console.log("wrote");
// No store.close(): returning must still end the process.
`,
  );
  const r = await deno(dir.path, [
    "run",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-sys",
    script,
    `${dir.path}/s.trove`,
  ]);
  assertEquals(r.code, 0, r.stderr);
  assertEquals(r.stdout.trim(), "wrote");
  // Idle Workers stop within about a second; a hang would take forever.
  assert(r.ms < 10_000, `the script took ${r.ms.toFixed(0)} ms to end`);
  await using store = await Store.open(`${dir.path}/s.trove`);
  const vol = await store.volume();
  assertEquals(await vol.readTextFile("/hello.txt"), "hi from elsewhere");
  assertEquals((await vol.readFile("/big.bin")).length, 3 << 20);
  assert((await store.check()).ok);
});

Deno.test("a script that throws before closing its store still ends", async () => {
  await using dir = await tempDir();
  const script = `${dir.path}/boom.ts`;
  await Deno.writeTextFile(
    script,
    `import { Store } from ${JSON.stringify(MOD)};
const store = await Store.open(Deno.args[0], { create: true });
await (await store.volume()).writeTextFile("/before.txt", "kept");
throw new Error("boom");
`,
  );
  const r = await deno(dir.path, ["run", "-A", script, `${dir.path}/s.trove`]);
  assertEquals(r.code, 1);
  assert(r.stderr.includes("boom"), r.stderr);
  assert(r.ms < 10_000, `took ${r.ms} ms`);
  await using store = await Store.open(`${dir.path}/s.trove`);
  assertEquals(await (await store.volume()).readTextFile("/before.txt"), "kept");
});

Deno.test("cli: global options go before the command as well as after it", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await troveOk(d, ["--store", "g.trove", "init"]);
  await troveOk(d, ["--store=g.trove", "put", "-", "/a.txt"], { input: "a" });
  const before = await troveOk(d, ["--store", "g.trove", "ls", "/"]);
  const after = await troveOk(d, ["ls", "/", "--store", "g.trove"]);
  assertEquals(before.stdout, after.stdout);
  assertEquals(before.stdout.trim(), "a.txt");
  const info = JSON.parse(
    (await troveOk(d, ["--store", "g.trove", "--volume", "default", "--json", "info"])).stdout,
  );
  assertEquals(info.files, 1);
  const bad = await trove(d, ["--nope", "ls"]);
  assertEquals(bad.code, 2);
  assert(bad.stderr.includes("unknown option --nope"), bad.stderr);
  const missing = await trove(d, ["--store"]);
  assertEquals(missing.code, 2);
});

/** A directory inside the repository (ignored by git), as a user's working directory. */
async function repoSubdir(): Promise<{ path: string } & AsyncDisposable> {
  await Deno.mkdir(`${ROOT}.test-tmp`, { recursive: true });
  const path = await Deno.makeTempDir({ dir: `${ROOT}.test-tmp`, prefix: "user-" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

Deno.test("cli: deno task trove resolves relative paths from where the user stands", async () => {
  await using sub = await repoSubdir();
  const d = sub.path;
  await Deno.writeTextFile(`${d}/note.txt`, "from the user's directory");
  const task = (args: string[]) => deno(d, ["task", "-q", "trove", ...args]);
  let r = await task(["init", "--store", "rel.trove"]);
  assertEquals(r.code, 0, r.stderr);
  assert((await Deno.stat(`${d}/rel.trove`)).isFile, "the store is where the user stands");
  await Deno.stat(`${ROOT}rel.trove`).then(
    () => {
      throw new Error("rel.trove was created in the repository root");
    },
    () => {},
  );
  r = await task(["--store", "rel.trove", "put", "note.txt", "/note.txt"]);
  assertEquals(r.code, 0, r.stderr);
  r = await task(["--store", "rel.trove", "get", "/note.txt", "back.txt"]);
  assertEquals(r.code, 0, r.stderr);
  assertEquals(await Deno.readTextFile(`${d}/back.txt`), "from the user's directory");
});

Deno.test("the README's two commands: deno task serve starts a server over ./trove.db", async () => {
  await using sub = await repoSubdir();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "serve", "--listen", "127.0.0.1:0", "--quiet"],
    cwd: sub.path,
    clearEnv: true,
    env: userEnv(),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const line = await waitForLine(child, (l) => l.startsWith("Trove is serving"));
    const url = line.match(/at (http\S+)/)![1];
    const put = await fetch(`${url}hello.txt`, { method: "PUT", body: "hello" });
    await put.body?.cancel();
    assertEquals(put.status, 201);
    assertEquals(await (await fetch(`${url}hello.txt`)).text(), "hello");
    assert((await Deno.stat(`${sub.path}/trove.db`)).isFile, "./trove.db of the user's directory");
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await child.stderr.cancel().catch(() => {});
  }
});

Deno.test("the serve task names what to run instead for a store outside its directory", async () => {
  await using sub = await repoSubdir();
  await using elsewhere = await tempDir();
  const store = `${elsewhere.path}/files.trove`;
  const r = await deno(sub.path, [
    "task",
    "-q",
    "serve",
    "--store",
    store,
    "--listen",
    "127.0.0.1:0",
  ]);
  assertEquals(r.code, 8, r.stderr);
  assert(r.stderr.includes(`deno task trove serve --store ${store}`), r.stderr);
  assert(!r.stderr.includes("run again with the --allow"), r.stderr);
  // And what it says works.
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "trove", "serve", "--store", store, "--listen", "127.0.0.1:0", "--quiet"],
    cwd: sub.path,
    clearEnv: true,
    env: userEnv(),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    await waitForLine(child, (l) => l.startsWith("Trove is serving"));
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await child.stderr.cancel().catch(() => {});
  }
});

Deno.test("the README's library quick start runs as written", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const start = readme.indexOf("## Library quick start");
  const block = readme.slice(start).match(/```ts[^\n]*\n([\s\S]*?)```/)![1];
  await using dir = await tempDir();
  // The example imports "./mod.ts": run it as a script beside a copy pointing at the real one.
  await Deno.writeTextFile(`${dir.path}/mod.ts`, `export * from ${JSON.stringify(MOD)};\n`);
  await Deno.writeTextFile(`${dir.path}/quick.ts`, block);
  const r = await deno(dir.path, [
    "run",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-sys",
    "quick.ts",
  ]);
  assertEquals(r.code, 0, r.stderr);
  assert(r.stdout.includes("savedByDedup"), r.stdout);
  await using store = await Store.open(`${dir.path}/my.trove`);
  const vol = await store.volume();
  assertEquals(await vol.readTextFile("/docs/2026/plan.md"), "# Plan\n");
  assertEquals(await vol.readTextFile("/log.txt"), "appended\n");
});

Deno.test("cli: the messages a new user reads are right", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await troveOk(d, ["init"]);
  // user add without a terminal asks for what the command takes.
  const user = await trove(d, ["user", "add", "alice"]);
  assertEquals(user.code, 12);
  assert(
    user.stderr.includes("--password-file") && user.stderr.includes("TROVE_PASSWORD"),
    user.stderr,
  );
  assert(!user.stderr.includes("passphrase"), user.stderr);
  const help = await troveOk(d, ["user", "--help"]);
  assert(
    help.stdout.includes("TROVE_PASSWORD") && help.stdout.includes("8 characters"),
    help.stdout,
  );
  const short = await trove(d, ["user", "add", "bob"], { env: { TROVE_PASSWORD: "short" } });
  assertEquals(short.code, 14);
  assert(short.stderr.includes("at least 8 characters"), short.stderr);
  // A missing volume is one class and one code everywhere.
  const serveMissing = await trove(d, ["serve", "--volume", "photos", "--listen", "127.0.0.1:0"]);
  const lsMissing = await trove(d, ["ls", "/", "--volume", "photos"]);
  assertEquals([serveMissing.code, lsMissing.code], [3, 3]);
  assertEquals(serveMissing.stderr.trim(), "trove: NotFound: no such volume: photos");
  assertEquals(lsMissing.stderr.trim(), "trove: NotFound: no such volume: photos");
  // A busy port is a usage error with a hint.
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    const busy = await trove(d, ["serve", "--listen", `127.0.0.1:${port}`]);
    assertEquals(busy.code, 2, busy.stderr);
    assert(busy.stderr.includes("already in use") && busy.stderr.includes("--listen"), busy.stderr);
  } finally {
    taken.close();
  }
  // get into a directory that does not exist names it, with a class, not a temporary file.
  await troveOk(d, ["put", "-", "/v.txt"], { input: "v" });
  const get = await trove(d, ["get", "/v.txt", "/nonexistent/dir/x"]);
  assertEquals(get.code, 3);
  assertEquals(
    get.stderr.trim(),
    "trove: NotFound: no such file or directory on the host: /nonexistent/dir/x",
  );
  // put of a source that does not exist names it and writes nothing.
  const putMissing = await trove(d, ["put", "/nonexistent/src", "/in"]);
  assertEquals(putMissing.code, 3);
  assertEquals(
    putMissing.stderr.trim(),
    "trove: NotFound: no such file or directory on the host: /nonexistent/src",
  );
  assertEquals((await trove(d, ["stat", "/in"])).code, 3);
  // rm of a non-empty directory names it with its slash and hints at -r.
  await troveOk(d, ["mkdir", "/dir"]);
  await troveOk(d, ["put", "-", "/dir/f"], { input: "f" });
  const rm = await trove(d, ["rm", "/dir"]);
  assertEquals(rm.code, 7);
  assert(rm.stderr.includes("/dir/") && rm.stderr.includes("-r"), rm.stderr);
  // Counts agree with their nouns.
  const check = await troveOk(d, ["check"]);
  assert(check.stdout.startsWith("checked 1 volume, "), check.stdout);
  assert(!/\b1 (volumes|problems|files|chunks)\b/.test(check.stdout), check.stdout);
});

Deno.test("cli: glob and vol.glob accept a pattern ending in **", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await troveOk(d, ["init"]);
  await troveOk(d, ["mkdir", "-p", "/proj/src"]);
  await troveOk(d, ["put", "-", "/proj/src/a.ts"], { input: "a" });
  await troveOk(d, ["put", "-", "/top.txt"], { input: "t" });
  const all = (await troveOk(d, ["glob", "/**"])).stdout.trim().split("\n").sort();
  assertEquals(all, ["/proj", "/proj/src", "/proj/src/a.ts", "/top.txt"]);
  const proj = (await troveOk(d, ["glob", "/proj/**"])).stdout.trim().split("\n").sort();
  assertEquals(proj, ["/proj/src", "/proj/src/a.ts"]);
  await using store = await Store.open(`${d}/trove.db`, { readOnly: true });
  const vol = await store.volume("default", { readOnly: true });
  const seen: string[] = [];
  for await (const e of vol.glob("/**")) seen.push(e.path);
  assertEquals(seen.sort(), all);
});

Deno.test("cli: pack, unpack and compare in a loop under CPU load never lose a file", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await Deno.mkdir(`${d}/src/a/b/c`, { recursive: true });
  await Deno.writeFile(`${d}/src/a/b/big.bin`, randomBytes(9 << 20, 4));
  await Deno.writeTextFile(`${d}/src/a/b/c/exec.sh`, "#!/bin/sh\n");
  await Deno.writeFile(`${d}/src/a/small.bin`, randomBytes(5000, 3));
  await troveOk(d, ["init"]);
  await troveOk(d, ["put", "src", "/proj"]);
  const expected = (await troveOk(d, ["find", "/proj", "--json"])).stdout;
  const describe = async (root: string) => {
    const list = JSON.parse((await troveOk(d, ["ls", "-l", "-R", root, "--json"])).stdout) as {
      path: string;
      size: number;
      mtime: string;
      mode: number;
    }[];
    return list.map((e) => `${e.path.slice(root.length)} ${e.size} ${e.mtime} ${e.mode}`).sort();
  };
  const want = await describe("/proj");
  assert(expected.includes("exec.sh"));
  await using _load = cpuLoad();
  for (let round = 0; round < 4; round++) {
    await Deno.remove(`${d}/p.pack`).catch(() => {});
    await troveOk(d, ["pack", "/proj", "p.pack"]);
    await troveOk(d, ["unpack", "p.pack", `/r${round}`]);
    assertEquals(await describe(`/r${round}`), want, `round ${round}`);
  }
});

Deno.test("every runnable TypeScript example in the README runs as written", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert(blocks.length >= 1, "the README has runnable examples");
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/mod.ts`, `export * from ${JSON.stringify(MOD)};\n`);
  for (const [i, block] of blocks.entries()) {
    await Deno.writeTextFile(`${dir.path}/example${i}.ts`, block);
    const r = await deno(dir.path, [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      `example${i}.ts`,
    ]);
    assertEquals(r.code, 0, `example ${i}:\n${block}\n${r.stderr}`);
  }
});
