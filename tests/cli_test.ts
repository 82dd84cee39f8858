import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals } from "./_assert.ts";
import { trove, troveOk } from "./_cli.ts";
import { ignoreWithout, randomBytes, run, sameBytes, tempDir, waitForLine } from "./_helpers.ts";

/** Writes a host tree with nested directories, sizes across the streaming cut, a symlink. */
async function hostTree(root: string): Promise<void> {
  await Deno.mkdir(`${root}/a/b/c`, { recursive: true });
  await Deno.mkdir(`${root}/empty`);
  await Deno.writeTextFile(`${root}/readme.txt`, "hello\n");
  await Deno.writeFile(`${root}/a/small.bin`, randomBytes(5000, 3));
  await Deno.writeFile(`${root}/a/b/big.bin`, randomBytes(9 << 20, 4));
  await Deno.writeFile(`${root}/a/b/c/exec.sh`, new TextEncoder().encode("#!/bin/sh\n"), {
    mode: 0o755,
  });
  await Deno.chmod(`${root}/a/b/c/exec.sh`, 0o755);
  await Deno.symlink("b/c/exec.sh", `${root}/a/link`);
  await Deno.utime(
    `${root}/readme.txt`,
    new Date("2020-01-02T03:04:05Z"),
    new Date("2020-01-02T03:04:05Z"),
  );
}

/** Every entry of a host tree: kind, mode, mtime (files), content or target. */
async function describe(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string, rel: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      const key = `${rel}/${e.name}`;
      const st = await Deno.lstat(path);
      if (st.isSymlink) out.set(key, `link ${await Deno.readLink(path)}`);
      else if (st.isDirectory) {
        out.set(key, `dir ${(st.mode! & 0o777).toString(8)}`);
        await walk(path, key);
      } else {
        const data = await Deno.readFile(path);
        const hash = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", data)))
          .map((b) => b.toString(16).padStart(2, "0")).join("");
        out.set(
          key,
          `file ${(st.mode! & 0o777).toString(8)} ${st.mtime!.getTime()} ${data.length} ${hash}`,
        );
      }
    }
  };
  await walk(root, "");
  return out;
}

Deno.test("cli: put over an existing tree takes the source's content, modes and times", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await hostTree(`${d}/src`);
  await Deno.writeFile(`${d}/src/a/mid.bin`, randomBytes(300_000, 5));
  await troveOk(d, ["init"]);
  // Into an existing directory: under its own name, so the second put lands on the first.
  await troveOk(d, ["put", "src", "/"]);
  // Every kind of file changes: content, permission bits and time.
  const t = new Date("2011-05-06T07:08:09Z");
  for (
    const [rel, mode, data] of [
      ["readme.txt", 0o600, new TextEncoder().encode("changed\n")],
      ["a/small.bin", 0o640, randomBytes(4000, 6)],
      ["a/mid.bin", 0o604, randomBytes(200_000, 7)],
      ["a/b/big.bin", 0o700, randomBytes(9 << 20, 8)],
    ] as const
  ) {
    await Deno.writeFile(`${d}/src/${rel}`, data);
    await Deno.chmod(`${d}/src/${rel}`, mode);
    await Deno.utime(`${d}/src/${rel}`, t, t);
  }
  await troveOk(d, ["put", "src", "/"]);
  await troveOk(d, ["get", "/src", "back"]);
  assertEquals(await describe(`${d}/back`), await describe(`${d}/src`));
  assertEquals((await troveOk(d, ["check"])).code, 0);
});

Deno.test("cli: putting a tree again leaves unchanged files alone, no new versions", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await hostTree(`${d}/src`);
  await troveOk(d, ["init"]);
  const versions = async () =>
    JSON.parse((await troveOk(d, ["info", "--json"])).stdout).versions as number;
  await troveOk(d, ["put", "src", "/"]);
  const first = await versions();
  await troveOk(d, ["put", "src", "/"]);
  assertEquals(await versions(), first);
  // A changed file is written again; a file whose mode alone changed keeps its content.
  await Deno.writeFile(`${d}/src/a/small.bin`, randomBytes(5000, 9));
  await Deno.chmod(`${d}/src/readme.txt`, 0o600);
  await troveOk(d, ["put", "src", "/"]);
  assertEquals(await versions(), first + 1);
  await troveOk(d, ["get", "/src", "back"]);
  assertEquals(await describe(`${d}/back`), await describe(`${d}/src`));
});

Deno.test("cli: init, put a tree, get it back identical, ls, info, check", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await hostTree(`${d}/src`);
  await troveOk(d, ["init"]);
  await troveOk(d, ["put", "src", "/imported"]);
  await troveOk(d, ["get", "/imported", "back"]);
  assertEquals(await describe(`${d}/back`), await describe(`${d}/src`));

  const ls = JSON.parse((await troveOk(d, ["ls", "-R", "--json", "/imported"])).stdout);
  const big = ls.find((e: { path: string }) => e.path === "/imported/a/b/big.bin");
  assertEquals(big.size, 9 << 20);
  assertEquals(
    ls.find((e: { path: string }) => e.path === "/imported/a/link").target,
    "b/c/exec.sh",
  );
  const long = (await troveOk(d, ["ls", "-l", "/imported/a/b/c"])).stdout;
  assert(/^-rwxr-xr-x\s+1\s+10 B\s+\S+ \S+\s+exec\.sh$/m.test(long), long);

  const info = JSON.parse((await troveOk(d, ["info", "--json"])).stdout);
  assertEquals(info.files, 4);
  assertEquals(info.logicalBytes, 6 + 5000 + (9 << 20) + 10);
  assert(info.storedBytes > 9 << 20 && info.storedBytes < 10 << 20, `${info.storedBytes}`);
  assertEquals(info.capacity, null);
  assert(info.store.fileBytes > 0);
  const human = (await troveOk(d, ["info"])).stdout;
  assert(human.includes("files          4") && human.includes("MiB"), human);

  const check = await troveOk(d, ["check", "--verify"]);
  assert(check.stdout.trimEnd().endsWith("clean"), check.stdout);
  const tree = (await troveOk(d, ["tree", "/imported"])).stdout;
  assert(tree.includes("│   ├── b/") || tree.includes("├── b/"), tree);
  assert(tree.includes("4 directories, 5 files"), tree);
  const du = JSON.parse((await troveOk(d, ["du", "-s", "--json", "/imported"])).stdout);
  assertEquals(du, [{ path: "/imported", bytes: 6 + 5000 + (9 << 20) + 10, files: 4 }]);
});

Deno.test("cli: stdin and stdout, cat, versions and restore", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await troveOk(d, ["init", "--keep", "3"]);
  const data = randomBytes(3 << 20, 9);
  await troveOk(d, ["put", "-", "/blob"], { input: data });
  const out = await troveOk(d, ["get", "/blob", "-"]);
  assert(sameBytes(out.bytes, data));
  for (const text of ["one\n", "two\n", "three\n"]) {
    await troveOk(d, ["put", "-", "/notes.txt"], { input: text });
  }
  assertEquals((await troveOk(d, ["cat", "/notes.txt"])).stdout, "three\n");
  const versions = JSON.parse((await troveOk(d, ["versions", "--json", "/notes.txt"])).stdout);
  assertEquals(versions.map((v: { version: number }) => v.version), [3, 2, 1]);
  const restored = await troveOk(d, ["restore", "/notes.txt"]);
  assert(restored.stdout.includes("restored version 2"), restored.stdout);
  assertEquals((await troveOk(d, ["cat", "/notes.txt"])).stdout, "two\n");
  await troveOk(d, ["restore", "/notes.txt", "--version", "3"]);
  assertEquals((await troveOk(d, ["cat", "/notes.txt"])).stdout, "three\n");
  // keep 3: the oldest version went.
  const after = JSON.parse((await troveOk(d, ["versions", "--json", "/notes.txt"])).stdout);
  assertEquals(after.length, 3);
});

Deno.test("cli: mkdir, mv, cp, rm, find, glob and stat", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await troveOk(d, ["init"]);
  await troveOk(d, ["mkdir", "-p", "/p/q/r"]);
  await troveOk(d, ["put", "-", "/p/q/r/a.txt"], { input: "A" });
  await troveOk(d, ["put", "-", "/p/b.md"], { input: "B" });
  await troveOk(d, ["mv", "/p/b.md", "/p/q/"]);
  await troveOk(d, ["cp", "-r", "/p", "/copy"]);
  assertEquals((await troveOk(d, ["cat", "/copy/q/b.md"])).stdout, "B");
  const cpDir = await trove(d, ["cp", "/p", "/copy2"]);
  assertEquals(cpDir.code, 6, cpDir.stderr);
  assert(cpDir.stderr.includes("IsADirectory") && cpDir.stderr.includes("-r"), cpDir.stderr);
  const found = (await troveOk(d, ["find", "/", "--name", "*.txt"])).stdout.trim().split("\n");
  assertEquals(found.sort(), ["/copy/q/r/a.txt", "/p/q/r/a.txt"]);
  const dirs = (await troveOk(d, ["find", "/p", "--type", "d"])).stdout.trim().split("\n");
  assertEquals(dirs, ["/p", "/p/q", "/p/q/r"]);
  const globbed = (await troveOk(d, ["glob", "/**/*.{md,txt}"])).stdout.trim().split("\n");
  assertEquals(globbed.length, 4);
  const st = JSON.parse((await troveOk(d, ["stat", "--json", "/p/q/b.md"])).stdout)[0];
  assertEquals([st.type, st.size, st.nlink], ["file", 1, 1]);
  const notEmpty = await trove(d, ["rm", "/p"]);
  assertEquals(notEmpty.code, 7, notEmpty.stderr);
  await troveOk(d, ["rm", "-r", "/p"]);
  await troveOk(d, ["rm", "-f", "/p"]);
  assertEquals((await troveOk(d, ["ls"])).stdout.trim(), "copy");
});

Deno.test("cli: errors print one line with the class, never a stack, and use the table's exit codes", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  const missing = await trove(d, ["ls"]);
  assertEquals(missing.code, 3);
  assert(missing.stderr.includes("NotFound") && missing.stderr.includes("trove init"));
  const usage = await trove(d, ["ls", "--bogus"]);
  assertEquals(usage.code, 2);
  assert(usage.stderr.includes("--bogus") && usage.stderr.includes("Usage") === false);
  assert(usage.stderr.includes("trove ls [-l]"), usage.stderr);
  const unknown = await trove(d, ["frobnicate"]);
  assertEquals(unknown.code, 2);
  await troveOk(d, ["init"]);
  const again = await trove(d, ["init"]);
  assertEquals(again.code, 4);
  for (
    const [args, code] of [
      [["cat", "/nope"], 3],
      [["mkdir", "/a/b/c"], 3],
      [["cat", "/"], 6],
      [["put", "-", `/${"n".repeat(300)}`], 14],
      [["put", "-", "/../x"], 14],
      [["restore", "/x", "--version", "abc"], 2],
    ] as const
  ) {
    const r = await trove(d, [...args], { input: "data" });
    assertEquals(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert(!/\n\s+at /.test(r.stderr), `a stack trace: ${r.stderr}`);
    assert(r.stderr.startsWith("trove: "), r.stderr);
  }
  const notStore = `${d}/not-a-store`;
  await Deno.writeTextFile(notStore, "hello, I am text, not SQLite at all.".repeat(200));
  const bad = await trove(d, ["ls", "--store", notStore]);
  assertEquals(bad.code, 14, bad.stderr);
  assertEquals(
    await Deno.readTextFile(notStore),
    "hello, I am text, not SQLite at all.".repeat(200),
  );
});

Deno.test("cli: an encrypted store from a generated key; key add, list, change and remove", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  const init = await troveOk(d, ["init", "--generate-key", "vault.key"]);
  assert(init.stdout.includes("encrypted"));
  assertEquals((await Deno.stat(`${d}/vault.key`)).size, 32);
  assertEquals((await Deno.stat(`${d}/vault.key`)).mode! & 0o777, 0o600);
  // A second init never overwrites the key file.
  assertEquals(
    (await trove(d, ["init", "--store", "b.trove", "--generate-key", "vault.key"])).code,
    14,
  );
  await troveOk(d, ["put", "--key-file", "vault.key", "-", "/secret.txt"], { input: "s3cret" });
  const locked = await trove(d, ["cat", "/secret.txt"]);
  assertEquals(locked.code, 12, locked.stderr);
  await Deno.writeTextFile(`${d}/pw`, "correct horse\n");
  const added = await troveOk(d, [
    "key",
    "add",
    "--key-file",
    "vault.key",
    "--new-passphrase-file",
    "pw",
    "--kdf-memory",
    "8",
    "--kdf-passes",
    "1",
  ]);
  assert(added.stdout.includes("slot 2"), added.stdout);
  const slots = JSON.parse((await troveOk(d, ["key", "list", "--json"])).stdout);
  assertEquals(slots.map((s: { kind: string }) => s.kind), ["keyfile", "passphrase"]);
  assertEquals(slots[1].kdf.memoryKiB, 8192);
  const viaEnv = await troveOk(d, ["cat", "/secret.txt"], {
    env: { TROVE_PASSPHRASE: "correct horse" },
  });
  assertEquals(viaEnv.stdout, "s3cret");
  const wrong = await trove(d, ["cat", "/secret.txt"], { env: { TROVE_PASSPHRASE: "wrong" } });
  assertEquals(wrong.code, 12);
  assert(wrong.stderr.includes("BadKey"));
  await troveOk(d, ["key", "change", "--passphrase-file", "pw", "--kdf-memory", "8"], {
    env: { TROVE_NEW_PASSPHRASE: "battery staple" },
  });
  assertEquals(
    (await trove(d, ["cat", "/secret.txt"], { env: { TROVE_PASSPHRASE: "correct horse" } })).code,
    12,
  );
  await troveOk(d, ["key", "remove", "1", "--passphrase-file", "-"], { input: "battery staple\n" });
  const last = await trove(d, ["key", "remove", "3"], {
    env: { TROVE_PASSPHRASE: "battery staple" },
  });
  assertEquals(last.code, 14, last.stderr);
  assert(last.stderr.includes("last key slot"));
  assertEquals(
    (await troveOk(d, ["cat", "/secret.txt"], { env: { TROVE_PASSPHRASE: "battery staple" } }))
      .stdout,
    "s3cret",
  );
});

Deno.test("cli: volumes are created, listed, tuned, renamed and removed", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await troveOk(d, ["init"]);
  await troveOk(d, ["volume", "create", "photos", "--capacity", "1M", "--keep", "2"]);
  const list = JSON.parse((await troveOk(d, ["volume", "list", "--json"])).stdout);
  assertEquals(list.map((v: { name: string }) => v.name), ["default", "photos"]);
  assertEquals(list[1].capacity, 1 << 20);
  const full = await trove(d, ["put", "--volume", "photos", "-", "/big"], {
    input: randomBytes(2 << 20),
  });
  assertEquals(full.code, 11, full.stderr);
  assert(full.stderr.includes("QuotaExceeded"));
  await troveOk(d, ["volume", "set", "photos", "--capacity", "none"]);
  await troveOk(d, ["put", "--volume", "photos", "-", "/big"], { input: randomBytes(2 << 20) });
  const info = JSON.parse((await troveOk(d, ["volume", "info", "photos", "--json"])).stdout);
  assertEquals([info.files, info.capacity, info.utilisation], [1, null, null]);
  await troveOk(d, ["volume", "rename", "photos", "pictures"]);
  assertEquals((await troveOk(d, ["ls", "--volume", "pictures"])).stdout.trim(), "big");
  assertEquals((await trove(d, ["volume", "rename", "pictures", "default"])).code, 4);
  await troveOk(d, ["volume", "remove", "pictures"]);
  assertEquals((await trove(d, ["ls", "--volume", "pictures"])).code, 3);
  assertEquals((await trove(d, ["volume", "frob"])).code, 2);
});

Deno.test("cli: pack and unpack a subtree, plain and encrypted; export refuses to overwrite", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await hostTree(`${d}/src`);
  await troveOk(d, ["init"]);
  await troveOk(d, ["put", "src", "/proj"]);
  await troveOk(d, ["cp", "/proj/readme.txt", "/proj/readme-copy.txt"]);
  const packed = JSON.parse((await troveOk(d, ["pack", "/proj", "proj.pack", "--json"])).stdout);
  assertEquals(packed.files, 5);
  assertEquals((await trove(d, ["pack", "/proj", "proj.pack"])).code, 4);
  // The pack is a store: it lists with --store.
  const inPack = (await troveOk(d, ["ls", "--store", "proj.pack"])).stdout.trim().split("\n");
  assertEquals(inPack, ["a", "empty", "readme-copy.txt", "readme.txt"]);
  await troveOk(d, ["unpack", "proj.pack", "/restored"]);
  await troveOk(d, ["get", "/restored", "out"]);
  const expected = await describe(`${d}/src`);
  const got = await describe(`${d}/out`);
  got.delete("/readme-copy.txt");
  assertEquals(got, expected);
  assertEquals((await trove(d, ["unpack", "proj.pack", "/restored"])).code, 4);

  await troveOk(d, ["pack", "/proj/a", "a.pack", "--encrypt"], {
    env: { TROVE_PACK_PASSPHRASE: "pack secret" },
  });
  assertEquals((await trove(d, ["unpack", "a.pack", "/a2"])).code, 12);
  await troveOk(d, ["unpack", "a.pack", "/a2"], { env: { TROVE_PACK_PASSPHRASE: "pack secret" } });
  assertEquals(
    (await troveOk(d, ["cat", "/a2/small.bin"])).bytes.length,
    5000,
  );
  const raw = new DatabaseSync(`${d}/a.pack`, { readOnly: true });
  const names = raw.prepare("SELECT name FROM entries").all();
  raw.close();
  assert(names.every((n) => !new TextDecoder().decode(n.name as Uint8Array).includes("small")));

  await troveOk(d, ["export", "copy.trove"]);
  assertEquals((await trove(d, ["export", "copy.trove"])).code, 4);
  assertEquals(
    (await troveOk(d, ["cat", "--store", "copy.trove", "/proj/readme.txt"])).stdout,
    "hello\n",
  );
});

Deno.test("cli: check exits 0 clean, 21 with damage, 20 once repaired; gc reports", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await troveOk(d, ["init"]);
  await troveOk(d, ["put", "-", "/f"], { input: randomBytes(100_000) });
  assertEquals((await trove(d, ["check"])).code, 0);
  const db = new DatabaseSync(`${d}/trove.db`);
  db.exec("UPDATE chunks SET refs = refs + 5");
  db.close();
  const damaged = await trove(d, ["check", "--json"]);
  assertEquals(damaged.code, 21, damaged.stderr);
  const report = JSON.parse(damaged.stdout);
  assert(report.problems.some((p: { code: string }) => p.code === "refcount"), damaged.stdout);
  const repaired = await trove(d, ["check", "--repair"]);
  assertEquals(repaired.code, 20, repaired.stdout + repaired.stderr);
  assertEquals((await trove(d, ["check"])).code, 0);
  await troveOk(d, ["rm", "--permanent", "/f"]);
  const gc = JSON.parse((await troveOk(d, ["gc", "--json"])).stdout);
  // The chunk went with the file's last reference; gc gives the pages back.
  assert(gc.fileBytesFreed >= 98_304, JSON.stringify(gc));
  assertEquals(JSON.parse((await troveOk(d, ["info", "--json"])).stdout).chunks, 0);
});

Deno.test({
  name: "cli: progress bars draw on a terminal and stay silent in pipes, under --json and in CI",
  ignore: ignoreWithout("script"),
  async fn() {
    await using dir = await tempDir();
    const d = dir.path;
    await troveOk(d, ["init"]);
    await Deno.writeFile(`${d}/big.bin`, randomBytes(256 << 20, 5));
    const piped = await troveOk(d, ["put", "big.bin", "/piped.bin"]);
    assertEquals(piped.stderr, "");
    // script(1) gives the command a terminal; CI=true (set when CI runs
    // these tests) silences bars, so it is cleared for the first run.
    const args = (await import("./_cli.ts")).taskArgs("trove");
    const cmd = (dest: string, extra = "") =>
      [Deno.execPath(), ...args, "put", "big.bin", dest].map((a) => `'${a}'`).join(" ") + extra;
    const tty = await run("script", ["-qec", `env -u CI ${cmd("/tty.bin")}`, "/dev/null"], {
      cwd: d,
    });
    assert(tty.stdout.includes("MiB/s") && tty.stdout.includes("\r"), JSON.stringify(tty.stdout));
    assert(/\d+%/.test(tty.stdout), tty.stdout);
    const json = await run("script", [
      "-qec",
      `env -u CI ${cmd("/j.bin", " --json")}`,
      "/dev/null",
    ], { cwd: d });
    assert(!json.stdout.includes("MiB/s"), json.stdout);
    const ci = await run("script", ["-qec", `env CI=true ${cmd("/ci.bin")}`, "/dev/null"], {
      cwd: d,
    });
    assert(!ci.stdout.includes("MiB/s"), ci.stdout);
  },
});

Deno.test("cli: serve answers WebDAV on the address it prints", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await troveOk(d, ["init"]);
  await troveOk(d, ["put", "-", "/hello.txt"], { input: "hi there" });
  const { taskArgs } = await import("./_cli.ts");
  const child = new Deno.Command(Deno.execPath(), {
    args: [...taskArgs("trove"), "serve", "--listen", "127.0.0.1:0", "--quiet"],
    cwd: d,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const line = await waitForLine(child, (l) => l.startsWith("Trove is serving"));
    const url = line.match(/at (http:\/\/127\.0\.0\.1:\d+\/)/)?.[1];
    assert(url, line);
    assertEquals(await (await fetch(`${url}hello.txt`)).text(), "hi there");
    const put = await fetch(`${url}new.txt`, { method: "PUT", body: "made over http" });
    await put.body?.cancel();
    assertEquals(put.status, 201);
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    await child.stdout.cancel().catch(() => {});
    await child.stderr.cancel().catch(() => {});
    assertEquals(status.code, 0);
  }
  assertEquals((await troveOk(d, ["cat", "/new.txt"])).stdout, "made over http");
  assertEquals((await trove(d, ["serve", "--all", "--volume", "default"])).code, 2);
  // A missing volume is NotFound here as everywhere (exit 3), not a usage error.
  assertEquals((await trove(d, ["serve", "--volume", "nope", "--listen", "127.0.0.1:0"])).code, 3);
});
