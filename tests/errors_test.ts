/**
 * One error table per front end, each complete: every error class Trove
 * raises has a row in the WebDAV server's (HTTP status), the mount's
 * (errno) and the CLI's (exit code), and the README's table says the same.
 */

import { assert, assertEquals } from "./_assert.ts";
import * as trove from "../mod.ts";
import { ERROR_CLASSES, type ErrorClass, NameTooLong, rowOf, TroveError } from "../mod.ts";
import { HTTP_STATUS } from "../dav/_errors.ts";
import { ERRNO } from "../ffi/_errors.ts";
import { EXIT_CODE } from "../cli/_errors.ts";

const TABLES: [string, ReadonlyMap<ErrorClass, unknown>][] = [
  ["dav HTTP_STATUS", HTTP_STATUS],
  ["ffi ERRNO", ERRNO],
  ["cli EXIT_CODE", EXIT_CODE],
];

Deno.test("every error class mod.ts exports is in ERROR_CLASSES", () => {
  const exported = Object.values(trove).filter((v): v is typeof TroveError =>
    typeof v === "function" && v.prototype instanceof TroveError
  );
  assertEquals(
    exported.map((c) => c.name).sort(),
    ERROR_CLASSES.map((c) => c.name).sort(),
  );
});

Deno.test("each front end's error table has a row for every class, and only for them", () => {
  for (const [name, table] of TABLES) {
    const missing = ERROR_CLASSES.filter((c) => !table.has(c)).map((c) => c.name);
    assertEquals(missing, [], `${name} lacks rows`);
    assertEquals(table.size, ERROR_CLASSES.length, `${name} has extra rows`);
  }
});

Deno.test("a subclass takes its own row, an unknown value none", () => {
  assertEquals(rowOf(HTTP_STATUS, new NameTooLong("long")), 414);
  assertEquals(rowOf(ERRNO, new NameTooLong("long")), 36);
  assertEquals(rowOf(HTTP_STATUS, new Error("a bug")), undefined);
  assertEquals(rowOf(HTTP_STATUS, "not even an error"), undefined);
});

Deno.test("the README's error table agrees with the three front ends' tables", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const rows = new Map<string, { errno: string; http: number; exit: number }>();
  for (const line of readme.split("\n")) {
    const m = line.match(/^\| `(\w+)`[^|]*\|\s*(E[A-Z]+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|$/);
    if (m) rows.set(m[1], { errno: m[2], http: Number(m[3]), exit: Number(m[4]) });
  }
  const errnoNames: Record<number, string> = {
    2: "ENOENT",
    61: "ENODATA",
    17: "EEXIST",
    20: "ENOTDIR",
    21: "EISDIR",
    39: "ENOTEMPTY",
    13: "EACCES",
    30: "EROFS",
    11: "EAGAIN",
    28: "ENOSPC",
    5: "EIO",
    36: "ENAMETOOLONG",
    27: "EFBIG",
    31: "EMLINK",
    22: "EINVAL",
    16: "EBUSY",
    40: "ELOOP",
    95: "EOPNOTSUPP",
  };
  for (const c of ERROR_CLASSES) {
    const row = rows.get(c.name);
    assert(row, `the README's error table has no row for ${c.name}`);
    assertEquals(row, {
      errno: errnoNames[ERRNO.get(c)!],
      http: HTTP_STATUS.get(c)!,
      exit: EXIT_CODE.get(c)!,
    }, c.name);
  }
});
