/**
 * The kernel mount for real: `trove mount` in its own process, real
 * programs on it (cp, diff, rsync, tar, git, sqlite3, dd, find, mv, ln,
 * chmod, touch, setfattr/getfattr, rm -rf), its lifecycle (SIGTERM with
 * files open, kill -9 and the stale mount it leaves, read-only mounts),
 * and the same store used at once through the mount, WebDAV and the CLI.
 */

import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals } from "./_assert.ts";
import { taskArgs, trove, troveOk } from "./_cli.ts";
import { randomBytes, sameBytes, tempDir, waitForLine } from "./_helpers.ts";
import { forceUnmount, ignoreWithoutFuse, newStore, sh, startMount } from "./_mount.ts";
import { Store } from "../mod.ts";

const ROOT = new URL("../", import.meta.url).pathname;

async function checkClean(dir: string): Promise<void> {
  await using store = await Store.open(`${dir}/store.trove`);
  const report = await store.check({ verify: true });
  assertEquals(report.problems, [], JSON.stringify(report.problems));
}

Deno.test({
  name:
    "mount: real programs work on it (cp -a, diff, rsync, tar, git, sqlite3, dd, find, mv, ln, chmod, touch, xattrs, rm -rf)",
  ignore: ignoreWithoutFuse(),
  async fn() {
    await using dir = await tempDir();
    const d = dir.path;
    await newStore(d);
    // A real tree: this project's sources.
    await sh(`mkdir src && cp -a ${ROOT}src ${ROOT}cli ${ROOT}dav ${ROOT}tests src/`, d);
    const m = await startMount(d);
    try {
      await sh("cp -a src mnt/copy && diff -r src mnt/copy", d);
      // Modes, times and file sizes survive (directory sizes differ by design).
      const list = "find . \\( -type f -printf '%p %m %s %TY%Tm%Td%TH%TM%TS\\n' \\) " +
        "-o -printf '%p %m %y %TY%Tm%Td%TH%TM%TS\\n' | sort";
      const modes = await sh(`cd src && ${list}`, d);
      const copied = await sh(`cd mnt/copy && ${list}`, d);
      assertEquals(copied, modes);

      await sh("rsync -a src/ mnt/rsynced/ && diff -r src mnt/rsynced", d);
      assertEquals(await sh("rsync -ai src/ mnt/rsynced/", d), "", "a second rsync found changes");

      await sh(
        "tar -C mnt -cf out.tar copy && mkdir mnt/untar && tar -C mnt/untar -xf out.tar && diff -r src mnt/untar/copy",
        d,
      );

      const git = await sh(
        `cd mnt && git init -q repo && cd repo && git config user.email t@example.com && git config user.name T &&
         cp -a ../../src/cli . && git add . && git commit -qm one &&
         git checkout -qb feature && echo change >> cli/main.ts && git commit -qam two &&
         git checkout -q - && git fsck --no-progress 2>&1 && git log --oneline | wc -l && git diff --stat feature | tail -1`,
        d,
      );
      assert(git.includes("1 file changed"), git);

      const sql = await sh(
        `sqlite3 mnt/db.sqlite "PRAGMA journal_mode=WAL; CREATE TABLE t(x INTEGER); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<5000) INSERT INTO t SELECT i FROM c; SELECT count(*), sum(x) FROM t; PRAGMA integrity_check;"`,
        d,
      );
      assertEquals(sql.trim().split("\n"), ["wal", "5000|12502500", "ok"]);

      await sh(
        "head -c 33554432 /dev/urandom > rnd.bin && dd if=rnd.bin of=mnt/dd.bin bs=1M status=none && dd if=mnt/dd.bin of=back.bin bs=256k status=none && cmp rnd.bin back.bin",
        d,
      );
      assertEquals(
        await sh("find mnt/copy -type f | wc -l", d),
        await sh("find src -type f | wc -l", d),
      );
      await sh(
        "mkdir mnt/moved && mv mnt/copy/cli mnt/moved/ && test -f mnt/moved/cli/main.ts && test ! -e mnt/copy/cli",
        d,
      );
      const links = await sh(
        "echo x > mnt/orig && ln mnt/orig mnt/hard && ln -s orig mnt/soft && stat -c '%h %F' mnt/orig mnt/soft && readlink mnt/soft && cat mnt/soft",
        d,
      );
      assertEquals(links.trim().split("\n"), ["2 regular file", "1 symbolic link", "orig", "x"]);
      assertEquals(
        (await sh(
          "chmod 640 mnt/orig && touch -d '2001-02-03 04:05:06 UTC' mnt/orig && stat -c '%a %Y' mnt/orig",
          d,
        )).trim(),
        "640 981173106",
      );
      assertEquals(
        (await sh(
          "setfattr -n user.colour -v blue mnt/orig && getfattr -n user.colour --only-values mnt/orig && getfattr -d mnt/orig | grep -c user.colour",
          d,
        )).trim(),
        "blue1",
      );
      const missingAttr = await new Deno.Command("getfattr", {
        args: ["-n", "user.nope", "mnt/orig"],
        cwd: d,
        stderr: "piped",
      }).output();
      assert(new TextDecoder().decode(missingAttr.stderr).includes("No such attribute"));
      // Only user.* and trusted.* are kept; ACLs and labels are refused, so
      // cp -a falls back to chmod (checked above through the copied modes).
      const label = await new Deno.Command("setfattr", {
        args: ["-n", "security.label", "-v", "x", "mnt/orig"],
        cwd: d,
        stderr: "piped",
      }).output();
      assert(new TextDecoder().decode(label.stderr).includes("Operation not supported"));

      await Deno.mkdir(`${m.mnt}/big/a/b`, { recursive: true });
      for (let i = 0; i < 1500; i++) {
        await Deno.writeTextFile(
          `${m.mnt}/big/${i % 3 === 0 ? "a/" : i % 3 === 1 ? "a/b/" : ""}f${i}`,
          `${i}`,
        );
      }
      await sh("rm -rf mnt/big && test ! -e mnt/big", d);
      assertEquals(
        await sh("ls mnt | sort | tr '\\n' ' '", d),
        "copy db.sqlite dd.bin hard moved orig repo rsynced soft untar ",
      );
    } finally {
      assertEquals(await m.stop(), 0, m.stderr());
    }
    await checkClean(d);
    // What the programs wrote is in the store.
    assertEquals(
      (await troveOk(d, ["cat", "--store", "store.trove", "/moved/cli/main.ts"])).stdout,
      await Deno.readTextFile(`${d}/src/cli/main.ts`),
    );
  },
});

Deno.test({
  name:
    "mount: kill -9 mid-write leaves every file at its last committed version; the stale mount is cleared on restart",
  ignore: ignoreWithoutFuse(),
  async fn() {
    await using dir = await tempDir();
    const d = dir.path;
    await newStore(d);
    const keep = randomBytes(3 << 20, 4);
    let m = await startMount(d);
    try {
      await Deno.writeFile(`${m.mnt}/kept.bin`, keep);
      await Deno.writeTextFile(`${m.mnt}/edited.txt`, "version 1");
      const dd = new Deno.Command("dd", {
        args: ["if=/dev/urandom", `of=${m.mnt}/partial.bin`, "bs=1M", "count=4000"],
        stderr: "null",
      }).spawn();
      // dd writes what it reads and closes nothing (no dup, no flush) until
      // its input ends, which it never does here.
      const editor = new Deno.Command("dd", {
        args: [`of=${m.mnt}/edited.txt`, "conv=notrunc", "bs=9", "status=none"],
        stdin: "piped",
        stderr: "null",
      }).spawn();
      const input = editor.stdin.getWriter();
      await input.write(new TextEncoder().encode("VERSION 2"));
      await new Promise((r) => setTimeout(r, 700));
      m.child.kill("SIGKILL");
      await m.child.status;
      await dd.status;
      await input.close().catch(() => {});
      await editor.status;
      // The kernel ends the connection once the last holder of /dev/fuse is gone.
      let stale = "";
      for (let i = 0; i < 50 && !stale.includes("not connected"); i++) {
        stale = await Deno.stat(m.mnt).then(() => "ok", (e) => String(e.message));
        if (!stale.includes("not connected")) await new Promise((r) => setTimeout(r, 100));
      }
      assert(stale.includes("not connected"), `expected a stale mount, got: ${stale}`);
    } finally {
      try {
        m.child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
    await checkClean(d);
    m = await startMount(d);
    try {
      assert(sameBytes(await Deno.readFile(`${m.mnt}/kept.bin`), keep));
      assertEquals(await Deno.readTextFile(`${m.mnt}/edited.txt`), "version 1");
      // dd's file was created (committed empty); nothing it wrote was committed.
      assertEquals((await Deno.stat(`${m.mnt}/partial.bin`)).size, 0);
    } finally {
      assertEquals(await m.stop(), 0, m.stderr());
      await forceUnmount(m.mnt);
    }
    await checkClean(d);
  },
});

Deno.test({
  name: "mount: SIGTERM unmounts cleanly, letting an open file finish and commit",
  ignore: ignoreWithoutFuse(),
  async fn() {
    await using dir = await tempDir();
    const d = dir.path;
    await newStore(d);
    const m = await startMount(d);
    const writer = new Deno.Command("bash", {
      args: [
        "-c",
        "exec 3>mnt/slow.txt; echo part1 >&3; echo ready; read go; echo part2 >&3; exec 3>&-",
      ],
      cwd: d,
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    await waitForLine(writer, (l) => l === "ready");
    m.child.kill("SIGTERM");
    // Still serving the open file: the process stays up.
    const early = await Promise.race([
      m.child.status.then(() => "exited"),
      new Promise((r) => setTimeout(() => r("running"), 700)),
    ]);
    assertEquals(early, "running");
    const w = writer.stdin.getWriter();
    await w.write(new TextEncoder().encode("go\n"));
    await w.close();
    assertEquals((await writer.status).code, 0);
    assertEquals((await m.child.status).code, 0, m.stderr());
    assertEquals(
      await Deno.readDir(`${d}/mnt`)[Symbol.asyncIterator]().next().then((r) => r.done),
      true,
    );
    assertEquals(
      (await troveOk(d, ["cat", "--store", "store.trove", "/slow.txt"])).stdout,
      "part1\npart2\n",
    );
    await checkClean(d);
  },
});

Deno.test({
  name:
    "mount: read-only mounts refuse changes with EROFS; a full volume gives ENOSPC and keeps the old content",
  ignore: ignoreWithoutFuse(),
  async fn() {
    await using dir = await tempDir();
    const d = dir.path;
    await newStore(d, { defaultVolume: { capacity: 4 << 20 } });
    let m = await startMount(d);
    try {
      await Deno.writeTextFile(`${m.mnt}/small.txt`, "original");
      const full = await new Deno.Command("dd", {
        // notrunc: an overwrite in place, refused whole when it does not fit.
        args: ["if=/dev/urandom", `of=${m.mnt}/small.txt`, "bs=1M", "count=8", "conv=notrunc"],
        stderr: "piped",
      }).output();
      assert(!full.success);
      assert(new TextDecoder().decode(full.stderr).includes("No space left on device"));
      const df = await sh("df -B1 --output=size mnt | tail -1", d);
      assertEquals(Number(df.trim()), 4 << 20);
    } finally {
      assertEquals(await m.stop(), 0, m.stderr());
    }
    m = await startMount(d, ["--read-only"]);
    try {
      assertEquals(await Deno.readTextFile(`${m.mnt}/small.txt`), "original");
      for (
        const op of [
          "touch mnt/new",
          "rm mnt/small.txt",
          "mkdir mnt/dir",
          "chmod 600 mnt/small.txt",
        ]
      ) {
        const out = await new Deno.Command("bash", { args: ["-c", op], cwd: d, stderr: "piped" })
          .output();
        assert(!out.success, op);
        assert(new TextDecoder().decode(out.stderr).includes("Read-only file system"), op);
      }
    } finally {
      assertEquals(await m.stop(), 0, m.stderr());
    }
  },
});

Deno.test({
  name:
    "mount: the mount, the WebDAV server and the CLI share one store and see each other's changes",
  ignore: ignoreWithoutFuse(),
  async fn() {
    await using dir = await tempDir();
    const d = dir.path;
    await newStore(d);
    const m = await startMount(d);
    const server = new Deno.Command(Deno.execPath(), {
      args: [
        ...taskArgs("trove"),
        "serve",
        "--store",
        "store.trove",
        "--listen",
        "127.0.0.1:0",
        "--quiet",
      ],
      cwd: d,
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    try {
      const line = await waitForLine(server, (l) => l.startsWith("Trove is serving"));
      const url = line.match(/at (http\S+)/)![1];
      const put = await fetch(`${url}from-dav.txt`, { method: "PUT", body: "via WebDAV" });
      await put.body?.cancel();
      assertEquals(put.status, 201);
      // The kernel may cache the directory for the 1 s TTL.
      let seen = "";
      for (let i = 0; i < 40 && seen === ""; i++) {
        seen = await Deno.readTextFile(`${m.mnt}/from-dav.txt`).catch(() => "");
        if (seen === "") await new Promise((r) => setTimeout(r, 100));
      }
      assertEquals(seen, "via WebDAV");
      await Deno.writeTextFile(`${m.mnt}/from-mount.txt`, "via the mount");
      assertEquals(await (await fetch(`${url}from-mount.txt`)).text(), "via the mount");
      assertEquals(
        (await troveOk(d, ["cat", "--store", "store.trove", "/from-mount.txt"])).stdout,
        "via the mount",
      );
      await troveOk(d, ["put", "--store", "store.trove", "-", "/from-cli.txt"], {
        input: "via the CLI",
      });
      let cli = "";
      for (let i = 0; i < 40 && cli === ""; i++) {
        cli = await Deno.readTextFile(`${m.mnt}/from-cli.txt`).catch(() => "");
        if (cli === "") await new Promise((r) => setTimeout(r, 100));
      }
      assertEquals(cli, "via the CLI");
      // An overwrite elsewhere shows through the mount on the next open.
      await troveOk(d, ["put", "--store", "store.trove", "-", "/from-mount.txt"], {
        input: "rewritten",
      });
      await new Promise((r) => setTimeout(r, 1100));
      assertEquals(await Deno.readTextFile(`${m.mnt}/from-mount.txt`), "rewritten");
    } finally {
      server.kill("SIGTERM");
      await server.status;
      await server.stdout.cancel().catch(() => {});
      assertEquals(await m.stop(), 0, m.stderr());
    }
    await checkClean(d);
  },
});

Deno.test({
  name:
    "mount: an encrypted volume mounts with its key file and leaves no plaintext names in the file",
  ignore: ignoreWithoutFuse(),
  async fn() {
    await using dir = await tempDir();
    const d = dir.path;
    await troveOk(d, ["init", "--store", "store.trove", "--generate-key", "k.key"]);
    const locked = await trove(d, ["mount", "mnt", "--store", "store.trove"]);
    assertEquals(locked.code, 12, locked.stderr);
    const m = await startMount(d, ["--key-file", "k.key"]);
    try {
      await Deno.mkdir(`${m.mnt}/very-secret-folder`);
      await Deno.writeTextFile(
        `${m.mnt}/very-secret-folder/plans.txt`,
        "attack at dawn ".repeat(100),
      );
      assertEquals(
        await Deno.readTextFile(`${m.mnt}/very-secret-folder/plans.txt`),
        "attack at dawn ".repeat(100),
      );
    } finally {
      assertEquals(await m.stop(), 0, m.stderr());
    }
    const raw = new DatabaseSync(`${d}/store.trove`, { readOnly: true });
    const blob = raw.prepare("SELECT group_concat(hex(name)) AS n FROM entries").get() as {
      n: string;
    };
    raw.close();
    const file = await Deno.readFile(`${d}/store.trove`);
    const text = new TextDecoder("latin1").decode(file);
    assert(!text.includes("very-secret-folder") && !text.includes("attack at dawn"));
    assert(blob.n !== null);
  },
});
