/**
 * What the kernel mount adds for POSIX programs: special files carried
 * through the CLI, WebDAV, copies, packs and host transfers; one version
 * per truncating open; mounting from code (`ffi/mod.ts`) and mounting a
 * subdirectory (`--at`); a mount by root served to other users.
 */

import { assert, assertEquals } from "./_assert.ts";
import { trove, troveOk } from "./_cli.ts";
import { tempDir } from "./_helpers.ts";
import { ignoreWithoutFuse, newStore, sh, startMount } from "./_mount.ts";
import { pack, Store, unpack } from "../mod.ts";
import { mount } from "../ffi/mod.ts";
import { testServer } from "./_dav.ts";

Deno.test({
  name: "mount: a truncating open and the writes after it are one version (echo > f, cp)",
  ignore: ignoreWithoutFuse(),
  async fn() {
    await using dir = await tempDir();
    const d = dir.path;
    await newStore(d);
    await Deno.writeTextFile(`${d}/src.txt`, "copied\n");
    const m = await startMount(d);
    try {
      await sh("echo a > mnt/f; echo b > mnt/f; cp src.txt mnt/new.txt; : > mnt/empty", d);
      await sh("printf 'x' > mnt/g && printf 'y' >> mnt/g && cp src.txt mnt/g", d);
    } finally {
      assertEquals(await m.stop(), 0, m.stderr());
    }
    await using store = await Store.open(`${d}/store.trove`);
    const vol = await store.volume();
    const sizes = async (p: string) => (await vol.versions(p)).map((v) => v.size);
    assertEquals(await sizes("/f"), [2, 2]);
    assertEquals(await vol.readTextFile("/f"), "b\n");
    assertEquals(await sizes("/new.txt"), [7]);
    assertEquals(await sizes("/empty"), [0]);
    assertEquals(await sizes("/g"), [7, 2, 1]); // newest first
  },
});

Deno.test({
  name: "mount: special files travel through the CLI, copies, packs and host transfers",
  ignore: ignoreWithoutFuse(),
  async fn() {
    await using dir = await tempDir();
    const d = dir.path;
    await newStore(d);
    const m = await startMount(d);
    try {
      await sh(
        "mkdir mnt/run && mkfifo -m 0600 mnt/run/queue && mknod -m 0640 mnt/run/tty c 4 5 && " +
          "mknod mnt/run/disk b 8 1 && python3 -c \"import socket; s=socket.socket(socket.AF_UNIX); s.bind('mnt/run/sock')\" && " +
          "echo data > mnt/run/file && ln mnt/run/queue mnt/run/queue2",
        d,
      );
      assertEquals(
        (await sh(
          "stat -c '%F %a %t:%T %h' mnt/run/queue mnt/run/tty mnt/run/disk mnt/run/sock",
          d,
        ))
          .trim().split("\n"),
        [
          "fifo 600 0:0 2",
          "character special file 640 4:5 1",
          "block special file 644 8:1 1",
          "socket 755 0:0 1",
        ],
      );
    } finally {
      assertEquals(await m.stop(), 0, m.stderr());
    }
    const ls = (await troveOk(d, ["--store", "store.trove", "ls", "-l", "/run"])).stdout;
    assert(/^prw-------\s+2 .* queue$/m.test(ls), ls);
    assert(/^crw-r-----\s+1 .* tty$/m.test(ls), ls);
    assert(/^brw-r--r--\s+1 .* disk$/m.test(ls), ls);
    assert(/^srwxr-xr-x\s+1 .* sock$/m.test(ls), ls);
    const found = (await troveOk(d, ["--store", "store.trove", "find", "/run", "--type", "p"]))
      .stdout.trim().split("\n").sort();
    assertEquals(found, ["/run/queue", "/run/queue2"]);
    const stat = JSON.parse(
      (await troveOk(d, ["--store", "store.trove", "stat", "--json", "/run/tty"])).stdout,
    );
    assertEquals([stat[0].type, stat[0].isCharDevice, stat[0].rdev], ["char", true, (4 << 8) | 5]);

    // A copy in the volume, a pack and unpack, and a get to the host keep them.
    await troveOk(d, ["--store", "store.trove", "cp", "-r", "/run", "/run2"]);
    await using store = await Store.open(`${d}/store.trove`);
    const vol = await store.volume();
    assert((await vol.lstat("/run2/queue")).isFifo);
    assertEquals((await vol.lstat("/run2/disk")).rdev, (8 << 8) | 1);
    await pack(vol, "/run", `${d}/run.pack`);
    await unpack(`${d}/run.pack`, vol, "/unpacked");
    const un = await vol.lstat("/unpacked/queue");
    assert(un.isFifo && un.nlink === 2 && (un.mode & 0o777) === 0o600);
    assert((await vol.lstat("/unpacked/sock")).isSocket);
    await assertRejectsOpen(vol, "/run/queue");
    await store.close();
    await troveOk(d, ["--store", "store.trove", "get", "/run", "host"]);
    assertEquals(
      (await sh("stat -c '%F %a %t:%T' host/queue host/tty host/disk", d)).trim().split("\n"),
      ["fifo 600 0:0", "character special file 640 4:5", "block special file 644 8:1"],
    );
    await troveOk(d, ["--store", "store.trove", "put", "host", "/back"]);
    await using again = await Store.open(`${d}/store.trove`);
    const v2 = await again.volume();
    assertEquals((await v2.lstat("/back/tty")).rdev, (4 << 8) | 5);
    assertEquals((await again.check()).problems, []);
  },
});

async function assertRejectsOpen(vol: { open(p: string): Promise<unknown> }, path: string) {
  let error: unknown = null;
  try {
    await vol.open(path);
  } catch (e) {
    error = e;
  }
  assert(error instanceof Error && error.name === "InvalidArgument", String(error));
}

Deno.test({
  name: "WebDAV hides special files and refuses to write over one",
  async fn() {
    await using server = await testServer();
    const vol = await server.store.volume();
    await vol.mkdir("/d");
    await vol.writeTextFile("/d/file", "x");
    await vol.mknod("/d/fifo", { kind: "fifo" });
    const text = async (r: Response) => [r.status, await r.text()] as const;
    const [status, list] = await text(
      await server.req("PROPFIND", "/default/d/", { headers: { Depth: "1" } }),
    );
    assertEquals(status, 207);
    assert(list.includes("/d/file") && !list.includes("fifo"), list);
    assertEquals((await text(await server.req("GET", "/default/d/fifo")))[0], 404);
    assertEquals(
      (await text(await server.req("PROPFIND", "/default/d/fifo", { headers: { Depth: "0" } })))[0],
      404,
    );
    assertEquals(
      (await text(await server.req("PUT", "/default/d/fifo", { body: "over" })))[0],
      409,
    );
    assert((await vol.lstat("/d/fifo")).isFifo);
    const html = (await text(await server.req("GET", "/default/d/")))[1];
    assert(html.includes("file") && !html.includes("fifo"), html);
    assertEquals((await text(await server.req("DELETE", "/default/d/")))[0], 204);
    assertEquals(await vol.exists("/d"), false);
  },
});

Deno.test({
  name: "mount from code: ffi/mod.ts mount() of a subdirectory, unmounted by await using",
  ignore: ignoreWithoutFuse(),
  async fn() {
    await using dir = await tempDir();
    const mnt = `${dir.path}/mnt`;
    await Deno.mkdir(mnt);
    await using store = await Store.open(`${dir.path}/store.trove`, { create: true });
    const vol = await store.volume();
    await vol.mkdir("/projects/site", { recursive: true });
    await vol.writeTextFile("/projects/site/index.html", "<h1>hi</h1>");
    await vol.writeTextFile("/outside.txt", "not visible");
    {
      await using m = await mount(vol, mnt, { at: "/projects/site" });
      assertEquals(m.mountpoint, mnt);
      // Other processes use the mount: Deno checks a path's permissions on
      // the thread that serves the mount, so this process keeps off it.
      assertEquals(await sh("cat mnt/index.html", dir.path), "<h1>hi</h1>");
      await sh("echo -n 'made through the mount' > mnt/new.txt", dir.path);
      assertEquals(await sh("ls mnt", dir.path), "index.html\nnew.txt\n");
    }
    // Unmounted: the mountpoint is an empty directory again.
    const left = [];
    for await (const e of Deno.readDir(mnt)) left.push(e.name);
    assertEquals(left, []);
    assertEquals(await vol.readTextFile("/projects/site/new.txt"), "made through the mount");
  },
});

Deno.test({
  name: "trove mount --at DIR serves a subdirectory; a missing or non-directory --at is refused",
  ignore: ignoreWithoutFuse(),
  async fn() {
    await using dir = await tempDir();
    const d = dir.path;
    {
      await using store = await Store.open(`${d}/store.trove`, { create: true });
      const vol = await store.volume();
      await vol.mkdir("/projects/site", { recursive: true });
      await vol.writeTextFile("/projects/site/a.txt", "a");
    }
    const m = await startMount(d, ["--at", "/projects/site"]);
    try {
      assertEquals(await sh("ls mnt && cat mnt/a.txt", d), "a.txt\na");
    } finally {
      assertEquals(await m.stop(), 0, m.stderr());
    }
    const missing = await trove(d, ["mount", "mnt", "--store", "store.trove", "--at", "/nope"]);
    assertEquals(missing.code, 3, missing.stderr);
    const file = await trove(d, [
      "mount",
      "mnt",
      "--store",
      "store.trove",
      "--at",
      "/projects/site/a.txt",
    ]);
    assertEquals(file.code, 14, file.stderr);
  },
});

Deno.test({
  name: "mount by root serves other users, unless --private",
  ignore: ignoreWithoutFuse() || Deno.uid() !== 0,
  async fn() {
    await using dir = await tempDir();
    const d = dir.path;
    await newStore(d);
    await Deno.chmod(d, 0o755);
    const asNobody = (script: string) =>
      new Deno.Command("setpriv", {
        args: ["--reuid=65534", "--regid=65534", "--clear-groups", "bash", "-c", script],
        cwd: d,
        stdout: "piped",
        stderr: "piped",
      }).output();
    let m = await startMount(d);
    try {
      await sh("mkdir -m 0777 mnt/shared", d);
      const r = await asNobody("echo hi > mnt/shared/mine && stat -c '%u %g' mnt/shared/mine");
      assertEquals(new TextDecoder().decode(r.stdout), "65534 65534\n");
      const denied = await asNobody("touch mnt/not-mine");
      assert(new TextDecoder().decode(denied.stderr).includes("Permission denied"));
    } finally {
      assertEquals(await m.stop(), 0, m.stderr());
    }
    m = await startMount(d, ["--private"]);
    try {
      const r = await asNobody("ls mnt/shared");
      assert(!r.success && new TextDecoder().decode(r.stderr).includes("Permission denied"));
    } finally {
      assertEquals(await m.stop(), 0, m.stderr());
    }
  },
});

Deno.test({
  name: "mount: .snapshots and .trash are read-only directories found by name, not listed",
  ignore: ignoreWithoutFuse(),
  async fn() {
    await using dir = await tempDir();
    const d = dir.path;
    await newStore(d);
    const m = await startMount(d);
    try {
      await sh("mkdir mnt/d && echo one > mnt/d/f", d);
      await troveOk(d, ["--store", "store.trove", "snapshot", "create", "first"]);
      await sh("echo two > mnt/d/f && rm mnt/d/f", d);
      await troveOk(d, ["--store", "store.trove", "snapshot", "create", "second"]);
      assertEquals(await sh("ls -a mnt", d), ".\n..\nd\n");
      assertEquals(await sh("ls mnt/.snapshots", d), "first\nsecond\n");
      assertEquals(await sh("cat mnt/.snapshots/first/d/f", d), "one\n");
      assertEquals(await sh("ls mnt/.snapshots/second/d", d), "");
      assertEquals(await sh("ls mnt/.trash", d), "1-f\n");
      assertEquals(await sh("cat mnt/.trash/1-f", d), "two\n");
      for (
        const step of [
          "echo x > mnt/.snapshots/first/d/f",
          "rm mnt/.trash/1-f",
          "mkdir mnt/.snapshots/x",
        ]
      ) {
        const r = await new Deno.Command("bash", { args: ["-c", step], cwd: d, stderr: "piped" })
          .output();
        assert(new TextDecoder().decode(r.stderr).includes("Read-only file system"), step);
      }
    } finally {
      assertEquals(await m.stop(), 0, m.stderr());
    }
  },
});
