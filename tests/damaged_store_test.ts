/**
 * Damaged stores, as the CLI reports them: a truncated file, overwritten
 * pages, flipped bytes in chunk data, and a `-wal` deleted while a server
 * uses the store. Each gives one line naming the file with its error class
 * and the table's exit code, never a stack trace or a wrong byte; `check`
 * reports the damage and exits 21.
 */

import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals } from "./_assert.ts";
import { trove, troveOk } from "./_cli.ts";
import { serverProcess } from "./_dav.ts";
import { prng, randomBytes, tempDir } from "./_helpers.ts";

const BIG = randomBytes(3_000_000, 21);

/** A store `trove.db` in `d` holding /big.bin and /text.txt, folded into one file. */
async function seeded(d: string): Promise<void> {
  await troveOk(d, ["init"]);
  await troveOk(d, ["put", "-", "/big.bin"], { input: BIG });
  await troveOk(d, ["put", "-", "/text.txt"], { input: "line\n".repeat(20_000) });
  const db = new DatabaseSync(`${d}/trove.db`);
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
}

function noStack(text: string): void {
  assert(!/\n\s+at /.test(text) && !text.includes("Uncaught"), `a stack trace: ${text}`);
}

/** One line on stderr, exactly. */
function oneLine(stderr: string): string {
  noStack(stderr);
  const lines = stderr.trim().split("\n");
  assertEquals(lines.length, 1, stderr);
  return lines[0];
}

Deno.test("a truncated store: Corrupt (13) naming the file; check reports it (21)", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await seeded(d);
  await Deno.truncate(`${d}/trove.db`, 100_000);
  const ls = await trove(d, ["ls", "/"]);
  assertEquals(ls.code, 13);
  assertEquals(oneLine(ls.stderr), "trove: Corrupt: the store file is damaged: ./trove.db");
  const check = await trove(d, ["check"]);
  assertEquals(check.code, 21, check.stderr);
  assertEquals(
    check.stdout.trim().split("\n"),
    [
      "PROBLEM sqlite: the store file is damaged: ./trove.db",
      "1 problem remains (SQLite cannot read the file: restore it from a backup)",
    ],
  );
});

Deno.test("overwritten pages: Corrupt (13) naming the file; check reports it (21)", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await seeded(d);
  const f = await Deno.open(`${d}/trove.db`, { read: true, write: true });
  const size = (await f.stat()).size;
  const r = prng(5);
  // Every page but the header: the tree, the chunk index and the content.
  for (let at = 16384; at < size; at += 16384) {
    await f.seek(at, Deno.SeekMode.Start);
    await f.write(new Uint8Array(16384).map(() => r.int(256)));
  }
  f.close();
  for (const args of [["ls", "/"], ["cat", "/text.txt"], ["info"]]) {
    const res = await trove(d, args);
    assertEquals(res.code, 13, args.join(" "));
    assertEquals(oneLine(res.stderr), "trove: Corrupt: the store file is damaged: ./trove.db");
  }
  const check = await trove(d, ["check", "--json"]);
  assertEquals(check.code, 21);
  assertEquals(JSON.parse(check.stdout).problems[0].code, "sqlite");
});

Deno.test("flipped bytes in chunk data: Corrupt (13) naming the file, no wrong byte", async () => {
  await using dir = await tempDir();
  const d = dir.path;
  await seeded(d);
  const db = new DatabaseSync(`${d}/trove.db`);
  const row = db.prepare(
    `SELECT d.id, d.data FROM chunk_data d JOIN extents e ON e.chunk = d.id WHERE e.idx = 3`,
  ).get() as { id: number; data: Uint8Array };
  const data = new Uint8Array(row.data);
  data[100] ^= 0x01;
  db.prepare("UPDATE chunk_data SET data = ? WHERE id = ?").run(data, row.id);
  db.close();
  const cat = await trove(d, ["cat", "/big.bin"]);
  assertEquals(cat.code, 13);
  assertEquals(oneLine(cat.stderr), "trove: Corrupt: chunk fails its checksum: /big.bin");
  // What reached stdout before the damaged chunk is right.
  const out = cat.bytes;
  assert(out.length < BIG.length);
  assert(out.every((b, i) => b === BIG[i]), "a wrong byte reached stdout");
  const get = await trove(d, ["get", "/big.bin", "out.bin"]);
  assertEquals(get.code, 13);
  assertEquals(oneLine(get.stderr), "trove: Corrupt: chunk fails its checksum: /big.bin");
  await Deno.stat(`${d}/out.bin`).then(
    () => {
      throw new Error("a damaged file was written to the host under its name");
    },
    () => {},
  );
  // Other files read as ever.
  assertEquals((await troveOk(d, ["cat", "/text.txt"])).stdout.length, 100_000);
  const check = await trove(d, ["check", "--verify"]);
  assertEquals(check.code, 21);
  assert(
    check.stdout.includes("PROBLEM corrupt-chunk: ") &&
      check.stdout.includes("(chunk fails its checksum); used by /big.bin"),
    check.stdout,
  );
  noStack(check.stderr);
});

/**
 * A server whose -wal is deleted after a PUT of `big`: readers elsewhere fail cleanly (or, when
 * `folded` allows it, read a file the log was already folded into), and it keeps its data.
 */
async function walDeletedWhileServing(big: Uint8Array<ArrayBuffer>, folded = false): Promise<void> {
  await using dir = await tempDir();
  const d = dir.path;
  await troveOk(d, ["init"]);
  const server = await serverProcess(`${d}/trove.db`);
  try {
    const put = await fetch(`${server.url}big.bin`, { method: "PUT", body: big });
    assertEquals(put.status, 201);
    await Deno.remove(`${d}/trove.db-wal`);
    // Another process cannot read a log that is gone: one line, exit 13.
    const ls = await trove(d, ["ls", "/"]);
    if (ls.code === 0 && folded) {
      // The log was folded into the file before it went: the file alone is whole.
      assert(ls.stdout.includes("big.bin"), ls.stdout);
    } else {
      assertEquals(ls.code, 13);
      assertEquals(
        oneLine(ls.stderr),
        "trove: Corrupt: the store file could not be read (disk I/O error; was its -wal file removed while in use?): ./trove.db",
      );
    }
    // The server holds its own log open: it answers with the right bytes
    // (or a clean error), and what it commits now is kept.
    const get = await fetch(`${server.url}big.bin`);
    if (get.status === 200) {
      const back = new Uint8Array(await get.arrayBuffer());
      assert(back.length === big.length && back.every((b, i) => b === big[i]), "wrong bytes");
    } else {
      await get.body?.cancel();
      assertEquals(get.status, 500);
    }
    const more = await fetch(`${server.url}after.txt`, { method: "PUT", body: "after" });
    await more.body?.cancel();
    assertEquals(more.status, 201);
  } finally {
    const status = await server.stop();
    assertEquals(status.code, 0);
  }
  // A clean shutdown folded the server's log into the file.
  assertEquals((await troveOk(d, ["cat", "/after.txt"])).stdout, "after");
  assertEquals((await troveOk(d, ["cat", "/big.bin"])).bytes.length, big.length);
  assertEquals((await trove(d, ["check", "--verify"])).code, 0);
}

Deno.test("a -wal deleted while serving: readers get Corrupt (13), the server keeps its data", async () => {
  await walDeletedWhileServing(BIG);
});

Deno.test("a -wal deleted after a PUT big enough to start background checkpoints loses nothing", async () => {
  // Checkpoints run before and after the deletion; only the server's own connection still reaches
  // the deleted log, and the background checkpointer must not open the path's new one.
  await walDeletedWhileServing(randomBytes(12_000_000, 22), true);
});
