/**
 * Real WebDAV clients against `trove serve` running as its own process:
 * litmus (every suite), curl, rclone and davfs2. A server crash on any
 * request fails the test (the process must still be up, and stop cleanly).
 */

import { assert, assertEquals } from "./_assert.ts";
import { serverProcess } from "./_dav.ts";
import { ignoreWithout, randomBytes, run, tempDir } from "./_helpers.ts";

async function withServer(
  fn: (url: string, dir: string) => Promise<void>,
  extra: string[] = [],
): Promise<void> {
  await using d = await tempDir();
  const srv = await serverProcess(`${d.path}/clients.trove`, extra);
  try {
    await fn(srv.url, d.path);
    // Still alive after everything the client did?
    const probe = await fetch(srv.url, { method: "OPTIONS" });
    await probe.body?.cancel();
    assertEquals(probe.status, 200, "the server died during the test");
  } finally {
    const status = await srv.stop();
    assertEquals(status.code, 0, "the server did not stop cleanly");
  }
}

Deno.test({
  name: "litmus passes every suite: basic, copymove, props, locks, http",
  ignore: ignoreWithout("litmus"),
  async fn() {
    await withServer(async (url, dir) => {
      const out = await new Deno.Command("litmus", {
        args: [`${url}`],
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      const summaries = [
        ...text.matchAll(/summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed/g),
      ];
      const bySuite = Object.fromEntries(
        summaries.map((m) => [m[1], [Number(m[3]), Number(m[4])]]),
      );
      assertEquals(
        Object.keys(bySuite).sort(),
        ["basic", "copymove", "http", "locks", "props"],
        text,
      );
      for (const [suite, [, failed]] of Object.entries(bySuite)) {
        assertEquals(failed, 0, `${suite}:\n${text}`);
      }
      const passed = summaries.reduce((n, m) => n + Number(m[3]), 0);
      assertEquals(passed, 104, text);
      assert(!/WARNING/.test(text), `litmus warned:\n${text}`);
    });
  },
});

Deno.test({
  name: "curl uploads, lists, downloads, moves and deletes",
  ignore: ignoreWithout("curl"),
  async fn() {
    await withServer(async (url, dir) => {
      const file = `${dir}/upload.bin`;
      await Deno.writeFile(file, randomBytes(5_000_000));
      const c = (...args: string[]) => run("curl", ["-sS", "-f", ...args]);
      await c("-X", "MKCOL", `${url}docs/`);
      await c("-T", file, `${url}docs/upload.bin`);
      const list = await c("-X", "PROPFIND", "-H", "Depth: 1", `${url}docs/`);
      assert(list.stdout.includes("upload.bin"), list.stdout);
      await c("-o", `${dir}/back.bin`, `${url}docs/upload.bin`);
      await run("cmp", [file, `${dir}/back.bin`]);
      await c(
        "-X",
        "MOVE",
        "-H",
        `Destination: ${url}docs/moved.bin`,
        `${url}docs/upload.bin`,
      );
      await c("-X", "DELETE", `${url}docs/moved.bin`);
      const gone = await new Deno.Command("curl", {
        args: ["-s", "-o", "/dev/null", "-w", "%{http_code}", `${url}docs/moved.bin`],
        stdout: "piped",
      }).output();
      assertEquals(new TextDecoder().decode(gone.stdout), "404");
    });
  },
});

Deno.test({
  name: "rclone copies, syncs and checks a tree through a webdav remote",
  ignore: ignoreWithout("rclone"),
  async fn() {
    await withServer(async (url, dir) => {
      const src = `${dir}/tree`;
      await Deno.mkdir(`${src}/a/b`, { recursive: true });
      await Deno.writeFile(`${src}/a/b/r.bin`, randomBytes(3_000_000));
      await Deno.writeTextFile(`${src}/a/notes.txt`, "notes\n".repeat(1000));
      await Deno.writeTextFile(`${src}/top.txt`, "top");
      const env = {
        RCLONE_CONFIG_TROVE_TYPE: "webdav",
        RCLONE_CONFIG_TROVE_URL: `${url}`,
        RCLONE_CONFIG_TROVE_VENDOR: "other",
        RCLONE_CONFIG: `${dir}/rclone.conf`,
      };
      const rclone = async (...args: string[]) => {
        const out = await new Deno.Command("rclone", {
          args,
          env,
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(out.stderr);
        assertEquals(out.code, 0, `rclone ${args.join(" ")}: ${text}`);
        return text;
      };
      await rclone("copy", src, "trove:backup");
      await rclone("check", "--download", src, "trove:backup");
      await Deno.writeTextFile(`${src}/top.txt`, "changed");
      await Deno.remove(`${src}/a/notes.txt`);
      await Deno.writeFile(`${src}/a/new.bin`, randomBytes(100_000, 2));
      await rclone("sync", src, "trove:backup");
      const check = await rclone("check", "--download", src, "trove:backup");
      assert(check.includes("0 differences found"), check);
    });
  },
});

Deno.test({
  name: "davfs2 mounts the server: mkdir, cp, ls, mv, overwrite after rename, append, rm, diff",
  ignore: ignoreWithout("mount.davfs"),
  async fn() {
    await withServer(async (url, dir) => {
      const mnt = `${dir}/mnt`;
      const cache = `${dir}/cache`;
      await Deno.mkdir(mnt);
      await Deno.mkdir(cache);
      // mount.davfs drops to its own user, who must reach and write the cache.
      await Deno.chmod(dir, 0o755);
      await Deno.chmod(cache, 0o777);
      await Deno.writeTextFile(
        `${dir}/davfs2.conf`,
        `buf_size 64\nask_auth 0\nuse_locks 1\ndelay_upload 0\ncache_dir ${cache}\n`,
      );
      await run("mount.davfs", [`${url}`, mnt, "-o", `conf=${dir}/davfs2.conf`]);
      const src = `${dir}/src`;
      await Deno.mkdir(src);
      await Deno.writeFile(`${src}/big.bin`, randomBytes(64 << 20));
      await Deno.writeTextFile(`${src}/small.txt`, "line\n".repeat(2000));
      try {
        const sh = (script: string) => run("bash", ["-euo", "pipefail", "-c", script]);
        await sh(`mkdir ${mnt}/work && cp ${src}/small.txt ${src}/big.bin ${mnt}/work/`);
        const ls = await sh(`ls ${mnt}/work`);
        assertEquals(ls.stdout.trim().split("\n").sort(), ["big.bin", "small.txt"]);
        await sh(`mv ${mnt}/work/small.txt ${mnt}/work/renamed.txt`);
        await sh(`cp ${src}/small.txt ${mnt}/work/renamed.txt`); // overwrite after rename
        await sh(`echo appended >> ${mnt}/work/renamed.txt`);
        await sh(`cp ${src}/small.txt ${dir}/expected.txt && echo appended >> ${dir}/expected.txt`);
        await sh(`diff ${mnt}/work/renamed.txt ${dir}/expected.txt`);
        await sh(`cmp ${mnt}/work/big.bin ${src}/big.bin`);
        await sh(`mkdir ${mnt}/work/sub && mv ${mnt}/work/big.bin ${mnt}/work/sub/`);
        await sh(`rm ${mnt}/work/sub/big.bin && rmdir ${mnt}/work/sub`);
      } finally {
        await run("umount", [mnt]);
      }
      // What davfs2 wrote reached the server.
      const served = await (await fetch(`${url}work/renamed.txt`)).text();
      assertEquals(served, await Deno.readTextFile(`${dir}/expected.txt`));
      const gone = await fetch(`${url}work/sub/`);
      await gone.body?.cancel();
      assertEquals(gone.status, 404);
    });
  },
});
