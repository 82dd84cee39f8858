import { assert, assertEquals, assertRejects, assertThrows } from "./_assert.ts";
import {
  AlreadyExists,
  FilesystemLoop,
  InvalidArgument,
  IsADirectory,
  NotADirectory,
  NotEmpty,
  NotFound,
  type Volume,
} from "../mod.ts";
import { checkName, splitPath } from "../src/paths.ts";
import { tempStore } from "./_helpers.ts";

/** A fingerprint of a volume: every path, kind, size and version. */
async function snapshot(vol: Volume): Promise<string> {
  const rows: string[] = [];
  for await (const e of vol.walk("/")) {
    const s = await vol.lstat(e.path);
    rows.push(`${e.path} ${s.mode} ${s.size} ${s.nlink} ${s.version}`);
  }
  const info = await vol.info();
  return rows.join("\n") + `\n${info.chunks} ${info.storedBytes} ${info.versions}`;
}

Deno.test("splitPath() and checkName() refuse NUL, climbing above the root, and bad names", () => {
  assertEquals(splitPath("/a/b/../c/./d/"), ["a", "c", "d"]);
  assertEquals(splitPath("a//b"), ["a", "b"]);
  assertEquals(splitPath("/"), []);
  assertThrows(() => splitPath(""), InvalidArgument);
  assertThrows(() => splitPath("/a\0b"), InvalidArgument);
  assertThrows(() => splitPath("/.."), InvalidArgument, "above the volume root");
  assertThrows(() => splitPath("a/../../b"), InvalidArgument);
  assertThrows(() => splitPath("/" + "x".repeat(256)), InvalidArgument, "255");
  assertEquals(splitPath("/" + "é".repeat(127)).length, 1);
  assertThrows(() => splitPath("/" + "é".repeat(128)), InvalidArgument);
  assertThrows(() => splitPath("/a".repeat(2100)), InvalidArgument, "4096");
  for (const bad of ["", ".", "..", "a/b", "a\0"]) {
    assertThrows(() => checkName(bad), InvalidArgument);
  }
});

Deno.test("bad input gets its error class and changes nothing", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  await vol.mkdir("/dir/sub", { recursive: true });
  await vol.writeTextFile("/dir/sub/file", "content");
  await vol.writeTextFile("/file", "top");
  await vol.symlink("/loop2", "/loop1");
  await vol.symlink("/loop1", "/loop2");
  const before = await snapshot(vol);
  // deno-lint-ignore no-explicit-any
  const cases: [string, () => Promise<unknown>, new (...a: any[]) => Error][] = [
    ["NUL in a path", () => vol.writeTextFile("/bad\0name", "x"), InvalidArgument],
    ["NUL in a read", () => vol.readFile("/file\0"), InvalidArgument],
    [".. above the root", () => vol.writeTextFile("/../escape", "x"), InvalidArgument],
    [
      ".. above the root in mkdir",
      () => vol.mkdir("../../etc", { recursive: true }),
      InvalidArgument,
    ],
    [".. above the root in rename", () => vol.rename("/file", "/../file"), InvalidArgument],
    ["empty path", () => vol.readFile(""), InvalidArgument],
    ["over-long name", () => vol.writeTextFile("/" + "n".repeat(256), "x"), InvalidArgument],
    ["empty name by node", () => vol.nodes.create(vol.nodes.rootIno, "", "file"), InvalidArgument],
    ["slash in a name", () => vol.nodes.create(vol.nodes.rootIno, "a/b", "file"), InvalidArgument],
    ["dot name", () => vol.nodes.create(vol.nodes.rootIno, "..", "directory"), InvalidArgument],
    ["reading a directory", () => vol.readFile("/dir"), IsADirectory],
    ["writing over a directory", () => vol.writeTextFile("/dir", "x"), IsADirectory],
    ["a file as a directory", () => vol.writeTextFile("/file/x", "x"), NotADirectory],
    ["removing a non-empty directory", () => vol.remove("/dir"), NotEmpty],
    [
      "moving a directory into itself",
      () => vol.rename("/dir", "/dir/sub/inside"),
      InvalidArgument,
    ],
    ["moving a directory onto its child", () => vol.rename("/dir", "/dir/sub"), InvalidArgument],
    ["a symlink loop", () => vol.readFile("/loop1"), FilesystemLoop],
    ["writing through a symlink loop", () => vol.writeTextFile("/loop1", "x"), FilesystemLoop],
    ["a missing parent", () => vol.writeTextFile("/nope/file", "x"), NotFound],
    ["creating over a file", () => vol.mkdir("/file"), AlreadyExists],
    ["an invalid symlink target", () => vol.symlink("a\0b", "/s"), InvalidArgument],
    ["an empty symlink target", () => vol.symlink("", "/s"), InvalidArgument],
    ["a negative truncate", () => vol.truncate("/file", -1), InvalidArgument],
    ["a bad time", () => vol.utime("/file", NaN, 0), InvalidArgument],
    ["an unknown open mode", () => vol.open("/file", "rw" as "r"), InvalidArgument],
    ["a bad volume name", () => t.store.volume("../x"), InvalidArgument],
    ["a bad xattr name", () => vol.setXattr("/file", "", "v"), InvalidArgument],
    ["a bad retention", () => vol.setRetention("/file", 0), InvalidArgument],
    ["a bad glob", () => vol.glob("/{a,b").next(), InvalidArgument],
  ];
  for (const [what, fn, cls] of cases) {
    const e = await assertRejects(fn, cls);
    assert(e instanceof cls, what);
  }
  assertEquals(await snapshot(vol), before);
  const report = await t.store.check();
  assert(report.ok, JSON.stringify(report.problems));
});
