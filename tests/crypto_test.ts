import { DatabaseSync } from "node:sqlite";
import { xchacha20poly1305 } from "../src/_deps.ts";
import { assert, assertEquals, assertNotEquals, assertRejects, assertThrows } from "./_assert.ts";
import {
  BadKey,
  Corrupt,
  generateKeyFile,
  InvalidArgument,
  NotFound,
  Store,
  type Volume,
} from "../mod.ts";
import { open, seal } from "../src/crypto/aead.ts";
import {
  ignoreWithout,
  randomBytes,
  run,
  sameBytes,
  tempDir,
  tempStore,
  textBytes,
} from "./_helpers.ts";

/** Fast Argon2id for tests; one test below checks the real defaults. */
const FAST = { memoryKiB: 1024, iterations: 1 };
const PASS = "correct horse battery staple";

function hexOf(s: string | Uint8Array): string {
  const b = typeof s === "string" ? new TextEncoder().encode(s) : s;
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function tamper(path: string, sql: string, ...params: (number | Uint8Array | null)[]): void {
  const db = new DatabaseSync(path);
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

function rows(path: string, sql: string): Record<string, unknown>[] {
  const db = new DatabaseSync(path);
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

async function secretVolume(t: { store: Store }): Promise<Volume> {
  return await t.store.createVolume("vault", { passphrase: PASS, kdf: FAST });
}

Deno.test("seal() is XChaCha20-Poly1305: byte-identical to noble's implementation", () => {
  const key = randomBytes(32, 3);
  const ad = new TextEncoder().encode("associated");
  for (const n of [0, 1, 63, 64, 65, 4096, 100_000]) {
    const plain = randomBytes(n, n + 1);
    const sealed = seal(key, plain, ad);
    const nonce = sealed.subarray(0, 24);
    const reference = xchacha20poly1305(key, nonce, ad).encrypt(plain);
    assert(sameBytes(sealed.subarray(24), reference), `length ${n}`);
    assert(sameBytes(open(key, sealed, ad), plain));
  }
  const sealed = seal(key, new Uint8Array([1, 2, 3]), ad);
  assertThrows(() => open(randomBytes(32, 9), sealed, ad), Corrupt);
  assertThrows(() => open(key, sealed, new Uint8Array([0])), Corrupt);
  sealed[30] ^= 1;
  assertThrows(() => open(key, sealed, ad), Corrupt);
  assertThrows(() => open(key, sealed.subarray(0, 39), ad), Corrupt);
});

Deno.test("an encrypted volume round-trips files, names, symlinks and attributes across reopen", async () => {
  await using t = await tempStore();
  const vol = await secretVolume(t);
  await vol.mkdir("/Private Letters", { recursive: true });
  const data = randomBytes(2_500_000);
  await vol.writeFile("/Private Letters/to-alice.bin", data);
  await vol.writeTextFile("/Private Letters/note.txt", "meet at noon");
  await vol.symlink("/Private Letters/note.txt", "/shortcut");
  await vol.setXattr("/shortcut", "user.tag", "secret-tag", {});
  await t.store.close();
  await using s2 = await Store.open(t.path);
  const v2 = await s2.volume("vault", { passphrase: PASS });
  assert(sameBytes(await v2.readFile("/Private Letters/to-alice.bin"), data));
  assertEquals(await v2.readTextFile("/shortcut"), "meet at noon");
  assertEquals(await v2.readLink("/shortcut"), "/Private Letters/note.txt");
  const names: string[] = [];
  for await (const e of v2.readDir("/Private Letters")) names.push(e.name);
  assertEquals(names.sort(), ["note.txt", "to-alice.bin"]);
  assertEquals(await v2.listXattrs("/Private Letters/note.txt"), ["user.tag"]);
  assertEquals(
    new TextDecoder().decode(await v2.getXattr("/shortcut", "user.tag")),
    "secret-tag",
  );
  assert((await s2.check({ verify: true })).ok);
});

Deno.test("a wrong passphrase or key file fails at open with BadKey, before any read", async () => {
  await using t = await tempStore();
  await secretVolume(t);
  const keyPath = `${t.dir}/volume.key`;
  await generateKeyFile(keyPath);
  await assertRejects(() => generateKeyFile(keyPath), InvalidArgument, "overwrite");
  await t.store.createVolume("keyed", { keyFile: keyPath });
  await assertRejects(() => t.store.volume("vault"), BadKey, "encrypted");
  await assertRejects(
    () => t.store.volume("vault", { passphrase: "wrong" }),
    BadKey,
    "wrong passphrase",
  );
  await assertRejects(() => t.store.volume("vault", { passphrase: "" }), BadKey);
  await assertRejects(() => t.store.volume("vault", { keyFile: randomBytes(32) }), BadKey);
  await assertRejects(
    () => t.store.volume("keyed", { keyFile: randomBytes(32) }),
    BadKey,
    "wrong key file",
  );
  await assertRejects(
    () => t.store.volume("keyed", { keyFile: randomBytes(31) }),
    BadKey,
    "32 bytes",
  );
  await assertRejects(() => t.store.volume("keyed", { keyFile: `${t.dir}/missing.key` }), BadKey);
  await assertRejects(() => t.store.volume("keyed", { passphrase: PASS }), BadKey);
  const keyed = await t.store.volume("keyed", { keyFile: await Deno.readFile(keyPath) });
  await keyed.writeTextFile("/x", "y");
  assertEquals(await (await t.store.volume("keyed", { keyFile: keyPath })).readTextFile("/x"), "y");
});

Deno.test("passphrases and key files are added, changed and removed without re-encrypting", async () => {
  await using t = await tempStore();
  const vol = await secretVolume(t);
  await vol.writeFile("/data", randomBytes(1_500_000));
  await vol.writeTextFile("/small", "kept");
  const before = rows(t.path, "SELECT id, data FROM chunk_data ORDER BY id");
  const keyPath = `${t.dir}/second.key`;
  await generateKeyFile(keyPath);
  const added = await t.store.addKey("vault", { passphrase: PASS }, { keyFile: keyPath });
  assertEquals((await t.store.keySlots("vault")).map((s) => s.kind), ["passphrase", "keyfile"]);
  const changed = await t.store.changeKey(
    "vault",
    { passphrase: PASS },
    { passphrase: "a new passphrase" },
    FAST,
  );
  await assertRejects(() => t.store.volume("vault", { passphrase: PASS }), BadKey);
  for (const cred of [{ passphrase: "a new passphrase" }, { keyFile: keyPath }]) {
    const v = await t.store.volume("vault", cred);
    assertEquals(await v.readTextFile("/small"), "kept");
    assertEquals((await v.readFile("/data")).length, 1_500_000);
  }
  assertEquals(rows(t.path, "SELECT id, data FROM chunk_data ORDER BY id"), before);
  await t.store.removeKey("vault", { keyFile: keyPath }, added);
  await assertRejects(() => t.store.volume("vault", { keyFile: keyPath }), BadKey);
  await assertRejects(
    () => t.store.removeKey("vault", { passphrase: "a new passphrase" }, changed),
    InvalidArgument,
    "last key slot",
  );
  await assertRejects(() => t.store.removeKey("vault", { passphrase: "nope" }, changed), BadKey);
  await assertRejects(
    () => t.store.removeKey("vault", { passphrase: "a new passphrase" }, 999),
    NotFound,
  );
  assertEquals((await t.store.keySlots("vault")).length, 1);
});

Deno.test("a passphrase slot uses Argon2id with at least 64 MiB and 3 passes by default", async () => {
  await using t = await tempStore();
  await t.store.createVolume("strong", { passphrase: PASS });
  const [slot] = await t.store.keySlots("strong");
  assertEquals(slot.kdf, { memoryKiB: 65536, iterations: 3, parallelism: 1 });
  await t.store.addKey("strong", { passphrase: PASS }, { passphrase: "stronger" }, {
    memoryKiB: 131072,
    iterations: 4,
  });
  assertEquals((await t.store.keySlots("strong"))[1].kdf?.memoryKiB, 131072);
  assertEquals(
    await (await t.store.volume("strong", { passphrase: "stronger" })).exists("/"),
    true,
  );
});

Deno.test({
  name: "sqlite3 .dump of an encrypted store shows none of the names, contents or passphrase",
  ignore: ignoreWithout("sqlite3"),
  async fn() {
    await using t = await tempStore();
    const vol = await secretVolume(t);
    const secrets = [
      "quarterly-forecast-2026",
      "Zanzibar-Holdings",
      "the launch moves to march",
      "ceo-notes.md",
      "user.classification",
      "top secret value",
      "/hidden/link/target",
    ];
    await vol.mkdir("/Zanzibar-Holdings/quarterly-forecast-2026", { recursive: true });
    await vol.writeTextFile(
      "/Zanzibar-Holdings/quarterly-forecast-2026/ceo-notes.md",
      "the launch moves to march ".repeat(200),
    );
    await vol.writeFile("/Zanzibar-Holdings/text.txt", textBytes(300_000));
    await vol.setXattr("/Zanzibar-Holdings", "user.classification", "top secret value");
    await vol.symlink("/hidden/link/target", "/Zanzibar-Holdings/link");
    await t.store.checkpoint();
    const { stdout } = await run("sqlite3", [t.path, ".dump"]);
    const dump = stdout.toLowerCase();
    assert(dump.includes("create table entries"), "the dump is real");
    for (const s of [...secrets, PASS, "alpha beta gamma"]) {
      assert(!dump.includes(s.toLowerCase()), `dump contains "${s}"`);
      assert(!dump.includes(hexOf(s.slice(0, 12))), `dump contains "${s}" in hex`);
    }
    const sample = textBytes(300_000).subarray(1000, 1016);
    assert(!dump.includes(hexOf(sample)), "dump contains file content in hex");
  },
});

Deno.test("chunk ids are keyed; dedup works inside a volume and can be turned off", async () => {
  await using t = await tempStore();
  const plainVol = await t.store.volume();
  const a = await secretVolume(t);
  const b = await t.store.createVolume("nodedup", { passphrase: PASS, kdf: FAST, dedup: false });
  const data = randomBytes(3 * 1024 * 1024);
  for (const v of [plainVol, a, b]) {
    await v.writeFile("/one", data);
    await v.writeFile("/two", data);
  }
  const [p, e, n] = await Promise.all([plainVol.info(), a.info(), b.info()]);
  const perCopy = data.length / plainVol.chunkSize;
  assertEquals(p.chunks, perCopy);
  assertEquals(e.chunks, perCopy, "dedup inside an encrypted volume");
  assertEquals(n.chunks, 2 * perCopy, "dedup off stores every chunk");
  const hashes = rows(t.path, "SELECT volume, hex(hash) AS h FROM chunks");
  const plainHashes = new Set(hashes.filter((r) => r.volume === 1).map((r) => r.h));
  assert(!hashes.some((r) => r.volume !== 1 && plainHashes.has(r.h)), "keyed ids reveal nothing");
  assert(sameBytes(await b.readFile("/two"), data));
  await assertRejects(() => t.store.createVolume("x", { dedup: false }), InvalidArgument);
});

Deno.test("every tamper case on an encrypted volume is caught as Corrupt", async () => {
  await using t = await tempStore();
  const vol = await secretVolume(t);
  await vol.mkdir("/a");
  await vol.mkdir("/b");
  await vol.writeFile("/a/one", randomBytes(100_000, 1));
  await vol.writeFile("/a/two", randomBytes(100_000, 2));
  await vol.writeFile("/b/three", textBytes(100_000));
  await t.store.close();
  const reopen = async () => {
    const s = await Store.open(t.path);
    return { s, v: await s.volume("vault", { passphrase: PASS }) };
  };
  const ids = rows(t.path, "SELECT id FROM chunks WHERE volume = 2 ORDER BY id").map((r) =>
    Number(r.id)
  );
  const blob = (id: number) =>
    rows(
      t.path,
      `SELECT IFNULL(c.data, d.data) AS data FROM chunks c LEFT JOIN chunk_data d ON d.id = c.id WHERE c.id = ${id}`,
    )[0]
      .data as Uint8Array;
  const put = (id: number, data: Uint8Array) => {
    tamper(
      t.path,
      "UPDATE chunks SET data = CASE WHEN data IS NULL THEN NULL ELSE ? END WHERE id = ?",
      data,
      id,
    );
    tamper(t.path, "UPDATE chunk_data SET data = ? WHERE id = ?", data, id);
  };
  const original = ids.map(blob);
  const restore = () => ids.forEach((id, i) => put(id, original[i]));
  const readAll = async (v: Volume) => {
    for (const p of ["/a/one", "/a/two", "/b/three"]) await v.readFile(p);
  };

  // A flipped byte.
  const flipped = original[0].slice();
  flipped[50] ^= 0x80;
  put(ids[0], flipped);
  let { s, v } = await reopen();
  await assertRejects(() => readAll(v), Corrupt);
  assert(!(await s.check({ verify: true })).ok);
  await s.close();
  restore();
  // A truncated blob.
  put(ids[1], original[1].subarray(0, original[1].length - 10));
  ({ s, v } = await reopen());
  await assertRejects(() => readAll(v), Corrupt);
  await s.close();
  restore();
  // Two chunks' blobs swapped.
  put(ids[0], original[1]);
  put(ids[1], original[0]);
  ({ s, v } = await reopen());
  await assertRejects(() => v.readFile("/a/one"), Corrupt);
  await assertRejects(() => v.readFile("/a/two"), Corrupt);
  await s.close();
  restore();
  ({ s, v } = await reopen());
  await readAll(v);
  await s.close();

  // Two entries' sealed names swapped (the two files of /a).
  ({ s, v } = await reopen());
  const dirA = (await v.stat("/a")).ino;
  await s.close();
  const entries = rows(
    t.path,
    `SELECT parent, key, name FROM entries WHERE parent = ${dirA} ORDER BY key`,
  );
  assertEquals(entries.length, 2);
  tamper(
    t.path,
    "UPDATE entries SET name = ? WHERE parent = ? AND key = ?",
    entries[1].name as Uint8Array,
    entries[0].parent as number,
    entries[0].key as Uint8Array,
  );
  tamper(
    t.path,
    "UPDATE entries SET name = ? WHERE parent = ? AND key = ?",
    entries[0].name as Uint8Array,
    entries[1].parent as number,
    entries[1].key as Uint8Array,
  );
  ({ s, v } = await reopen());
  await assertRejects(async () => {
    for await (const _ of v.readDir("/a")) { /* opening names */ }
  }, Corrupt);
  await s.close();
  tamper(
    t.path,
    "UPDATE entries SET name = ? WHERE parent = ? AND key = ?",
    entries[0].name as Uint8Array,
    entries[0].parent as number,
    entries[0].key as Uint8Array,
  );
  tamper(
    t.path,
    "UPDATE entries SET name = ? WHERE parent = ? AND key = ?",
    entries[1].name as Uint8Array,
    entries[1].parent as number,
    entries[1].key as Uint8Array,
  );

  // An entry's row moved to another directory.
  ({ s, v } = await reopen());
  const aIno = (await v.stat("/a")).ino;
  const bIno = (await v.stat("/b")).ino;
  await s.close();
  tamper(
    t.path,
    "UPDATE entries SET parent = ? WHERE parent = ? AND key = ?",
    bIno,
    aIno,
    entries[0].key as Uint8Array,
  );
  ({ s, v } = await reopen());
  await assertRejects(async () => {
    for await (const _ of v.readDir("/b")) { /* opening names */ }
  }, Corrupt);
  await s.close();
});

Deno.test("an encrypted volume reads back the same under check, copy and versions", async () => {
  await using t = await tempStore();
  const vol = await secretVolume(t);
  await vol.writeTextFile("/f", "v1");
  await vol.writeTextFile("/f", "v2");
  await vol.restore("/f", 1);
  assertEquals(await vol.readTextFile("/f"), "v1");
  await vol.copy("/f", "/g");
  assertEquals(await vol.readTextFile("/g"), "v1");
  const locked = await Store.open(t.path, { readOnly: true });
  const report = await locked.check({ verify: true });
  assert(report.ok);
  assert(report.counts.chunksSkipped > 0, "chunks of a locked volume are skipped, not failed");
  await locked.close();
  assertNotEquals((await t.store.check({ verify: true })).counts.chunksVerified, 0);
});

Deno.test("give a passphrase or a key file, not both", async () => {
  await using d = await tempDir();
  await using s = await Store.open(`${d.path}/x.trove`, { create: true });
  await assertRejects(
    () => s.createVolume("v", { passphrase: "p", keyFile: randomBytes(32) }),
    InvalidArgument,
  );
});
