/**
 * Layered volumes against Linux overlayfs: the same lower trees, the same
 * steps (read, overwrite, delete, re-create, rename of files and of
 * directories, refusals) on an overlayfs mount over tmpfs and on a Trove
 * overlay of store files; after every step both must show the same merged
 * tree and give the same result. Then the layer API, bad layers, chunk
 * sharing, and serving and mounting a layered view.
 */

import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { troveOk } from "./_cli.ts";
import { run, tempDir } from "./_helpers.ts";
import { ignoreWithoutFuse, sh, startMount } from "./_mount.ts";
import { serverProcess } from "./_dav.ts";
import {
  AlreadyExists,
  type FileSystem,
  InvalidArgument,
  NotFound,
  Overlay,
  ReadOnly,
  Store,
  TroveError,
} from "../mod.ts";

const TREES: Record<string, Record<string, string>> = {
  base: {
    "etc/a.conf": "base a",
    "etc/b.conf": "base b",
    "maps/one.map": "one",
    "maps/deep/two.map": "two",
    "docs/readme": "read me",
    "lib/x.so": "x",
    "lib/sub/y.so": "y",
    "both": "from base",
  },
  dlc: {
    "maps/three.map": "three",
    "etc/a.conf": "dlc a",
    "both": "from dlc",
    "lib/z.so": "z",
  },
};

/** Host side: a step's outcome as an errno name. */
function hostOutcome(e: unknown): string {
  const m = String((e as Error)?.message ?? e).match(/os error (\d+)/);
  const names: Record<string, string> = {
    "2": "ENOENT",
    "17": "EEXIST",
    "20": "ENOTDIR",
    "21": "EISDIR",
    "39": "ENOTEMPTY",
  };
  return m ? names[m[1]] ?? `errno ${m[1]}` : `error ${(e as Error).name}`;
}

/** Trove side: the same, from the error class. */
function troveOutcome(e: unknown): string {
  const names: Record<string, string> = {
    NotFound: "ENOENT",
    AlreadyExists: "EEXIST",
    NotADirectory: "ENOTDIR",
    IsADirectory: "EISDIR",
    NotEmpty: "ENOTEMPTY",
  };
  return e instanceof TroveError ? names[e.name] ?? e.name : `error ${(e as Error).name}`;
}

/** A merged tree as sorted lines: path, kind, and content or target. */
async function hostTree(root: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${root}${rel}`)) {
    const p = `${rel}/${e.name}`;
    if (e.isDirectory) out.push(`${p}/`, ...await hostTree(root, p));
    else if (e.isSymlink) out.push(`${p} -> ${await Deno.readLink(root + p)}`);
    else out.push(`${p} = ${await Deno.readTextFile(root + p)}`);
  }
  return out.sort();
}

async function troveTree(fs: FileSystem, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of fs.readDir(rel || "/")) {
    const p = `${rel}/${e.name}`;
    if (e.isDirectory) out.push(`${p}/`, ...await troveTree(fs, p));
    else if (e.isSymlink) out.push(`${p} -> ${await fs.readLink(p)}`);
    else out.push(`${p} = ${await fs.readTextFile(p)}`);
  }
  return out.sort();
}

interface Step {
  name: string;
  host(root: string): Promise<unknown>;
  trove(fs: FileSystem): Promise<unknown>;
}

const STEPS: Step[] = [
  {
    name: "read a file of each layer",
    host: async (
      r,
    ) => [await Deno.readTextFile(`${r}/etc/a.conf`), await Deno.readTextFile(`${r}/etc/b.conf`)],
    trove: async (
      fs,
    ) => [await fs.readTextFile("/etc/a.conf"), await fs.readTextFile("/etc/b.conf")],
  },
  {
    name: "overwrite a lower file",
    host: (r) => Deno.writeTextFile(`${r}/etc/a.conf`, "user a"),
    trove: (fs) => fs.writeTextFile("/etc/a.conf", "user a"),
  },
  {
    name: "append to a lower file",
    host: (r) => Deno.writeTextFile(`${r}/docs/readme`, " more", { append: true }),
    trove: (fs) => fs.writeTextFile("/docs/readme", " more", { append: true }),
  },
  {
    name: "delete a lower file",
    host: (r) => Deno.remove(`${r}/etc/b.conf`),
    trove: (fs) => fs.remove("/etc/b.conf"),
  },
  {
    name: "delete it again",
    host: (r) => Deno.remove(`${r}/etc/b.conf`),
    trove: (fs) => fs.remove("/etc/b.conf"),
  },
  {
    name: "re-create the deleted file",
    host: (r) => Deno.writeTextFile(`${r}/etc/b.conf`, "new b"),
    trove: (fs) => fs.writeTextFile("/etc/b.conf", "new b"),
  },
  {
    name: "delete a file both lowers hold",
    host: (r) => Deno.remove(`${r}/both`),
    trove: (fs) => fs.remove("/both"),
  },
  {
    name: "delete a merged directory without recursion",
    host: (r) => Deno.remove(`${r}/maps`),
    trove: (fs) => fs.remove("/maps"),
  },
  {
    name: "delete a merged directory tree",
    host: (r) => Deno.remove(`${r}/maps`, { recursive: true }),
    trove: (fs) => fs.remove("/maps", { recursive: true }),
  },
  {
    name: "re-create the directory: it starts empty",
    host: async (r) => {
      await Deno.mkdir(`${r}/maps`);
      await Deno.writeTextFile(`${r}/maps/new.map`, "new");
    },
    trove: async (fs) => {
      await fs.mkdir("/maps");
      await fs.writeTextFile("/maps/new.map", "new");
    },
  },
  {
    name: "make a directory that exists below",
    host: (r) => Deno.mkdir(`${r}/lib`),
    trove: (fs) => fs.mkdir("/lib"),
  },
  {
    name: "rename a lower file",
    host: (r) => run("mv", [`${r}/docs/readme`, `${r}/docs/README`]),
    trove: (fs) => fs.rename("/docs/readme", "/docs/README"),
  },
  {
    name: "rename a merged directory",
    host: (r) => run("mv", [`${r}/lib`, `${r}/lib2`]),
    trove: (fs) => fs.rename("/lib", "/lib2"),
  },
  {
    name: "a symlink through the merged view",
    host: async (r) => {
      await Deno.symlink("../lib2/sub/y.so", `${r}/etc/y`);
      return await Deno.readTextFile(`${r}/etc/y`);
    },
    trove: async (fs) => {
      await fs.symlink("../lib2/sub/y.so", "/etc/y");
      return await fs.readTextFile("/etc/y");
    },
  },
  {
    name: "read what is gone",
    host: (r) => Deno.readTextFile(`${r}/lib/x.so`),
    trove: (fs) => fs.readTextFile("/lib/x.so"),
  },
];

async function outcome<T>(fn: () => Promise<T>, err: (e: unknown) => string): Promise<string> {
  try {
    const v = await fn();
    return v === undefined || typeof v === "object" && v !== null && "stdout" in v
      ? "ok"
      : JSON.stringify(v);
  } catch (e) {
    return err(e);
  }
}

Deno.test({
  name:
    "overlay semantics equal Linux overlayfs step by step (listing, content, delete, re-create, rename)",
  ignore: Deno.uid() !== 0,
  async fn() {
    await using dir = await tempDir();
    const d = dir.path;
    await Deno.mkdir(`${d}/tmp`);
    await run("mount", ["-t", "tmpfs", "-o", "size=64m", "trove-ovl-ref", `${d}/tmp`]);
    try {
      for (const [name, files] of Object.entries(TREES)) {
        for (const [p, text] of Object.entries(files)) {
          const path = `${d}/tmp/${name}/${p}`;
          await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
          await Deno.writeTextFile(path, text);
        }
        await using s = await Store.open(`${d}/${name}.trove`, { create: true });
        const vol = await s.volume();
        for (const [p, text] of Object.entries(files)) {
          if (p.includes("/")) {
            await vol.mkdir("/" + p.slice(0, p.lastIndexOf("/")), { recursive: true });
          }
          await vol.writeTextFile(`/${p}`, text);
        }
      }
      for (const x of ["upper", "work", "merged"]) await Deno.mkdir(`${d}/tmp/${x}`);
      await run("mount", [
        "-t",
        "overlay",
        "overlay",
        "-o",
        `lowerdir=${d}/tmp/dlc:${d}/tmp/base,upperdir=${d}/tmp/upper,workdir=${d}/tmp/work`,
        `${d}/tmp/merged`,
      ]);
      try {
        await using store = await Store.open(`${d}/user.trove`, { create: true });
        await using view = await Overlay.open({
          upper: await store.volume(),
          lowers: [`${d}/dlc.trove`, `${d}/base.trove`],
        });
        const merged = `${d}/tmp/merged`;
        assertEquals(await troveTree(view), await hostTree(merged));
        for (const step of STEPS) {
          const want = await outcome(() => step.host(merged), hostOutcome);
          const got = await outcome(() => step.trove(view), troveOutcome);
          assertEquals(got, want, `${step.name}: overlayfs ${want}, trove ${got}`);
          assertEquals(await troveTree(view), await hostTree(merged), `after: ${step.name}`);
        }
        assertEquals((await store.check()).problems, []);
      } finally {
        await run("umount", [`${d}/tmp/merged`]);
      }
    } finally {
      await run("umount", [`${d}/tmp`]);
    }
  },
});

Deno.test("layers: add, list, which, remove; bad layers are refused and change nothing", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  {
    await using s = await Store.open(`${d}/base.trove`, { create: true });
    await (await s.volume()).writeTextFile("/a", "base");
  }
  await Deno.writeTextFile(`${d}/junk.trove`, "not a store at all, just text ".repeat(200));
  await using store = await Store.open(`${d}/user.trove`, { create: true });
  const upper = await store.volume();
  const dlc = await store.createVolume("dlc");
  await dlc.writeTextFile("/a", "dlc");
  await using view = await Overlay.open({ upper });
  await view.addLayer(`${d}/base.trove`, { priority: 1 });
  await view.addLayer(dlc, { name: "dlc", priority: 5 });
  assertEquals((await view.layers()).map((l) => `${l.name}:${l.priority}:${l.writable}`), [
    "upper:Infinity:true",
    "dlc:5:false",
    "base:1:false",
  ]);
  assertEquals(await view.whichLayer("/a"), "dlc");
  assertEquals((await view.whichLayerDetailed("/a")).layers.map((l) => l.name), ["dlc", "base"]);
  await assertRejects(() => view.whichLayer("/nope"), NotFound);
  await assertRejects(() => view.removeLayer("upper"), InvalidArgument);
  await assertRejects(() => view.addLayer(dlc, { name: "dlc" }), AlreadyExists);
  await assertRejects(() => view.addLayer(upper, { name: "self" }), InvalidArgument);
  await assertRejects(() => view.addLayer(`${d}/user.trove`), InvalidArgument);
  await assertRejects(() => view.addLayer(`${d}/junk.trove`), Error);
  await assertRejects(() => view.addLayer(`${d}/missing.trove`), Error);
  assertEquals((await view.layers()).length, 3);
  await view.removeLayer("dlc");
  assertEquals(await view.readTextFile("/a"), "base");
  // A store-file layer is read-only; the overlay writes only to the upper volume.
  await view.writeTextFile("/a", "mine");
  assertEquals(await view.whichLayer("/a"), "upper");
  await using base = await Store.open(`${d}/base.trove`, { readOnly: true });
  assertEquals(await (await base.volume()).readTextFile("/a"), "base");
  await assertRejects(
    () => (async () => (await base.volume()).writeTextFile("/a", "x"))(),
    ReadOnly,
  );
});

Deno.test("statAndRead() through an overlay: the serving layer's bytes, the overlay's inode", async () => {
  await using store = await Store.open(":memory:", { create: true });
  const base = await store.createVolume("base");
  await base.writeTextFile("/a.txt", "from base");
  const user = await store.createVolume("user");
  await using view = await Overlay.open({ upper: user, lowers: [base] });
  const r = await view.statAndRead("/a.txt", { maxBytes: 1024 });
  assertEquals(new TextDecoder().decode(r.data!), "from base");
  assertEquals(r.info, await view.stat("/a.txt"));
  await view.writeTextFile("/a.txt", "from upper!");
  const u = await view.statAndRead("/a.txt", { maxBytes: 1024 });
  assertEquals([new TextDecoder().decode(u.data!), u.info.ino], [
    "from upper!",
    (await view.stat("/a.txt")).ino,
  ]);
});

Deno.test("copy-up shares chunks between unencrypted volumes of one store, and survives the lower's removal", async () => {
  await using store = await Store.open(":memory:", { create: true });
  const base = await store.createVolume("base");
  const big = new Uint8Array(1 << 20).map((_, i) => (i * 7919) & 255);
  await base.writeFile("/big.bin", big);
  const user = await store.createVolume("user");
  await using view = await Overlay.open({ upper: user, lowers: [base] });
  await view.chmod("/big.bin", 0o600); // copied up
  assertEquals(await view.whichLayer("/big.bin"), "upper");
  assert((await user.info()).storedBytes < 1000, "no content byte copied");
  await view.removeLayer("base");
  await store.removeVolume("base");
  const back = await user.readFile("/big.bin");
  assert(back.length === big.length && back.every((b, i) => b === big[i]));
  assertEquals((await store.check({ verify: true })).problems, []);
});

Deno.test({
  name:
    "a layered view served over WebDAV and mounted: trove serve --layer, trove mount --layer, trove layers",
  ignore: ignoreWithoutFuse(),
  async fn() {
    await using dir = await tempDir();
    const d = dir.path;
    for (const name of ["base", "user"]) await troveOk(d, ["init", "--store", `${name}.trove`]);
    await troveOk(d, ["--store", "base.trove", "put", "-", "/game.cfg"], { input: "base cfg" });
    const layers = JSON.parse(
      (await troveOk(d, ["--store", "user.trove", "layers", "--layer", "base.trove", "--json"]))
        .stdout,
    );
    assertEquals(layers.map((l: { name: string }) => l.name), ["upper", "base"]);
    assert(
      (await troveOk(d, [
        "--store",
        "user.trove",
        "layers",
        "--layer",
        "base.trove",
        "which",
        "/game.cfg",
      ]))
        .stdout.startsWith("base"),
    );
    const server = await serverProcess(`${d}/user.trove`, ["--layer", `${d}/base.trove`]);
    try {
      assertEquals(await (await fetch(`${server.url}game.cfg`)).text(), "base cfg");
      const put = await fetch(`${server.url}game.cfg`, { method: "PUT", body: "user cfg" });
      await put.body?.cancel();
      assertEquals(put.status, 204);
      assertEquals(await (await fetch(`${server.url}game.cfg`)).text(), "user cfg");
    } finally {
      await server.stop();
    }
    await Deno.rename(`${d}/user.trove`, `${d}/store.trove`);
    const m = await startMount(d, ["--layer", "base.trove"]);
    try {
      assertEquals(await sh("cat mnt/game.cfg", d), "user cfg");
      await sh("mkdir mnt/saves && echo slot > mnt/saves/1 && mv mnt/saves mnt/saved", d);
      assertEquals(await sh("ls mnt && cat mnt/saved/1", d), "game.cfg\nsaved\nslot\n");
    } finally {
      assertEquals(await m.stop(), 0, m.stderr());
    }
    await using base = await Store.open(`${d}/base.trove`, { readOnly: true });
    assertEquals(await (await base.volume()).readTextFile("/game.cfg"), "base cfg");
  },
});

Deno.test("check finds and repairs an opaque marker on something that is no directory", async () => {
  await using store = await Store.open(":memory:", { create: true });
  const vol = await store.volume();
  await vol.mkdir("/dir");
  await vol.writeTextFile("/file", "x");
  await vol.setXattr("/dir", "trusted.overlay.opaque", new TextEncoder().encode("y"));
  await vol.setXattr("/file", "trusted.overlay.opaque", new TextEncoder().encode("y"));
  const report = await store.check();
  assertEquals(report.problems.map((p) => p.code), ["opaque-marker"]);
  assert((await store.check({ repair: true })).repaired === 1);
  assert((await store.check()).ok);
  assertEquals(await vol.listXattrs("/file"), []);
  assertEquals(await vol.listXattrs("/dir"), ["trusted.overlay.opaque"]);
});
