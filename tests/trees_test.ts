import { assert, assertEquals, assertRejects } from "./_assert.ts";
import { AlreadyExists, InvalidArgument } from "../mod.ts";
import { randomBytes, sameBytes, tempStore } from "./_helpers.ts";

async function populate(
  vol: Awaited<ReturnType<Awaited<ReturnType<typeof tempStore>>["store"]["volume"]>>,
) {
  await vol.mkdir("/src/lib/util", { recursive: true });
  await vol.mkdir("/src/docs", { recursive: true });
  await vol.writeTextFile("/src/main.ts", "main");
  await vol.writeTextFile("/src/lib/a.ts", "a");
  await vol.writeTextFile("/src/lib/b.js", "b");
  await vol.writeTextFile("/src/lib/util/c.ts", "c");
  await vol.writeTextFile("/src/docs/readme.md", "readme");
  await vol.writeFile("/src/lib/blob.bin", randomBytes(1_500_000));
  await vol.symlink("lib/a.ts", "/src/alias.ts");
}

Deno.test("walk() yields a tree depth-first with filters like std's walk", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await populate(vol);
  const all: string[] = [];
  for await (const e of vol.walk("/src")) all.push(e.path);
  assertEquals(all.length, 11);
  assertEquals(all[0], "/src");
  const ts: string[] = [];
  for await (const e of vol.walk("/src", { exts: [".ts"], includeDirs: false })) ts.push(e.path);
  assertEquals(ts.sort(), ["/src/alias.ts", "/src/lib/a.ts", "/src/lib/util/c.ts", "/src/main.ts"]);
  const shallow: string[] = [];
  for await (
    const e of vol.walk("/src", { maxDepth: 1, includeFiles: false, includeSymlinks: false })
  ) shallow.push(e.path);
  assertEquals(shallow.sort(), ["/src", "/src/docs", "/src/lib"]);
  const skipped: string[] = [];
  for await (const e of vol.walk("/src", { skip: [/\/lib$/] })) skipped.push(e.path);
  assert(!skipped.some((p) => p.startsWith("/src/lib")));
});

Deno.test("glob() matches *, **, ?, [...] and {a,b}", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await populate(vol);
  const g = async (p: string) => {
    const out: string[] = [];
    for await (const e of vol.glob(p)) out.push(e.path);
    return out.sort();
  };
  assertEquals(await g("/src/*.ts"), ["/src/alias.ts", "/src/main.ts"]);
  assertEquals(await g("/src/**/*.ts"), [
    "/src/alias.ts",
    "/src/lib/a.ts",
    "/src/lib/util/c.ts",
    "/src/main.ts",
  ]);
  assertEquals(await g("src/lib/?.*"), ["/src/lib/a.ts", "/src/lib/b.js"]);
  assertEquals(await g("/src/lib/[ab].ts"), ["/src/lib/a.ts"]);
  assertEquals(await g("/src/lib/[!a].*"), ["/src/lib/b.js"]);
  assertEquals(await g("/src/**/*.{md,js}"), ["/src/docs/readme.md", "/src/lib/b.js"]);
  assertEquals(await g("/src/main.ts"), ["/src/main.ts"]);
  assertEquals(await g("/nowhere/*"), []);
});

Deno.test("copy() duplicates a tree sharing every chunk: no content bytes", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await populate(vol);
  await vol.setXattr("/src/main.ts", "user.tag", "x");
  await vol.utime("/src/main.ts", 1000, 2000);
  const before = await vol.info();
  await vol.copy("/src", "/copy");
  const after = await vol.info();
  assertEquals(after.storedBytes, before.storedBytes);
  assertEquals(after.chunks, before.chunks);
  assertEquals(after.files, before.files * 2);
  assert(
    sameBytes(await vol.readFile("/copy/lib/blob.bin"), await vol.readFile("/src/lib/blob.bin")),
  );
  assertEquals(await vol.readLink("/copy/alias.ts"), "lib/a.ts");
  assertEquals(await vol.readTextFile("/copy/alias.ts"), "a");
  assertEquals((await vol.stat("/copy/main.ts")).mtime.getTime(), 2_000_000);
  assertEquals(new TextDecoder().decode(await vol.getXattr("/copy/main.ts", "user.tag")), "x");
  await vol.writeTextFile("/copy/main.ts", "changed");
  assertEquals(await vol.readTextFile("/src/main.ts"), "main");
  await assertRejects(() => vol.copy("/src", "/copy"), AlreadyExists);
  await assertRejects(() => vol.copy("/src", "/src/lib/inner"), InvalidArgument);
  await vol.copy("/src/docs", "/copy", { overwrite: true });
  assertEquals(await vol.readTextFile("/copy/readme.md"), "readme");
  assert((await t.store.check()).ok);
});

Deno.test("batch() commits everything together, or nothing when it throws", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.writeTextFile("/keep", "before");
  await assertRejects(
    () =>
      vol.batch(async (v) => {
        await v.writeTextFile("/keep", "during");
        await v.mkdir("/newdir");
        await v.writeFile("/newdir/big", randomBytes(3_000_000));
        assertEquals(await v.readTextFile("/keep"), "during");
        throw new Error("abort");
      }),
    Error,
    "abort",
  );
  assertEquals(await vol.readTextFile("/keep"), "before");
  assert(!(await vol.exists("/newdir")));
  assertEquals((await vol.info()).chunks, 1);
  const result = await vol.batch(async () => {
    await vol.writeTextFile("/a", "1");
    await vol.rename("/a", "/b");
    return 42;
  });
  assertEquals(result, 42);
  assertEquals(await vol.readTextFile("/b"), "1");
  assert((await t.store.check()).ok);
});

Deno.test("work outside a batch waits until the batch ends", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  let release!: () => void;
  const held = new Promise<void>((r) => release = r);
  let wrote!: () => void;
  const batchWrote = new Promise<void>((r) => wrote = r);
  const order: string[] = [];
  const b = vol.batch(async () => {
    await vol.writeTextFile("/x", "batch");
    order.push("batch wrote");
    wrote();
    await held;
  });
  await batchWrote;
  const outside = vol.writeTextFile("/y", "outside").then(() => order.push("outside wrote"));
  // Every task the outside write could run has run: it is waiting on the batch.
  for (let i = 0; i < 20; i++) await new Promise((r) => queueMicrotask(() => r(null)));
  await new Promise((r) => setTimeout(r, 0));
  order.push("released");
  release();
  await b;
  await outside;
  assertEquals(order, ["batch wrote", "released", "outside wrote"]);
});
