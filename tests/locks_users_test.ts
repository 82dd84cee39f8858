import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals, assertNotEquals, assertRejects } from "./_assert.ts";
import { AlreadyExists, InvalidArgument, Locked, ManualClock, NotFound, Store } from "../mod.ts";
import { randomBytes, tempStore } from "./_helpers.ts";

Deno.test("locks: exclusive and shared, depth, conflicts, refresh and unlock", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  const a = await vol.locks.lock("/docs", { depth: "infinity", scope: "shared", owner: "<a/>" });
  const b = await vol.locks.lock("/docs", { depth: 0, scope: "shared" });
  assertNotEquals(a.token, b.token);
  assert(a.token.startsWith("opaquelocktoken:"));
  await assertRejects(() => vol.locks.lock("/docs/x", { depth: 0, scope: "exclusive" }), Locked);
  await assertRejects(() => vol.locks.lock("/", { depth: "infinity", scope: "exclusive" }), Locked);
  await vol.locks.lock("/other", { depth: 0, scope: "exclusive" });
  assertEquals((await vol.locks.covering("/docs/deep/file")).map((l) => l.token), [a.token]);
  assertEquals((await vol.locks.covering("/docs")).length, 2);
  // A new member of /docs meets its depth-0 lock only when the parent is asked about.
  assertEquals((await vol.locks.covering("/docs/new")).map((l) => l.token), [a.token]);
  assertEquals(
    (await vol.locks.covering("/docs/new", { parent: true })).map((l) => l.token).sort(),
    [a.token, b.token].sort(),
  );
  assertEquals((await vol.locks.covering("/docs/deep/new", { parent: true })).length, 1);
  assertEquals((await vol.locks.within("/")).length, 3);
  assertEquals((await vol.locks.within("/docs")).length, 2);
  const r = await vol.locks.refresh(a.token, 3600);
  assert(r.expires !== null && r.expires.getTime() > Date.now() + 3500_000);
  await vol.locks.unlock(a.token);
  await assertRejects(() => vol.locks.unlock(a.token), NotFound);
  assertEquals(await vol.locks.get(a.token), null);
  assertEquals(await vol.locks.removeWithin("/"), 2);
  assertEquals((await vol.locks.within("/")).length, 0);
});

Deno.test("locks expire, live in the store, and are seen by another process's view", async () => {
  const clock = new ManualClock();
  await using t = await tempStore({ clock });
  const vol = await t.store.volume();
  await vol.locks.lock("/brief", { depth: 0, scope: "exclusive", timeoutSeconds: 1 });
  const lasting = await vol.locks.lock("/kept", { depth: 0, scope: "exclusive", owner: "me" });
  await using other = await Store.open(t.path);
  const seen = await (await other.volume()).locks.covering("/kept");
  assertEquals(seen.map((l) => [l.token, l.owner]), [[lasting.token, "me"]]);
  clock.advance(1001);
  assertEquals((await vol.locks.covering("/brief")).length, 0);
  await vol.locks.lock("/brief", { depth: 0, scope: "exclusive" });
  assert((await t.store.check()).ok);
});

Deno.test("locks of an encrypted volume keep paths and owners sealed", async () => {
  await using t = await tempStore();
  const vol = await t.store.createVolume("v", {
    passphrase: "pw",
    kdf: { memoryKiB: 1024, iterations: 1 },
  });
  const l = await vol.locks.lock("/Secret Plans/q3.doc", {
    depth: 0,
    scope: "exclusive",
    owner: "mallory",
  });
  assertEquals((await vol.locks.covering("/Secret Plans/q3.doc"))[0].path, "/Secret Plans/q3.doc");
  assertEquals((await vol.locks.within("/Secret Plans")).map((x) => x.token), [l.token]);
  const db = new DatabaseSync(t.path, { readOnly: true });
  const raw = JSON.stringify(
    db.prepare("SELECT hex(key) k, hex(path) p, hex(owner) o FROM locks").all(),
  );
  db.close();
  for (const s of ["Secret", "q3.doc", "mallory"]) {
    const hex = Array.from(new TextEncoder().encode(s), (x) => x.toString(16).padStart(2, "0"))
      .join("");
    assert(!raw.toLowerCase().includes(hex), `lock row shows "${s}"`);
  }
});

Deno.test("users are added with Argon2id hashes, verified, listed and removed", async () => {
  await using t = await tempStore();
  await t.store.users.add("alice", "alice's password", { admin: true });
  await t.store.users.add("bob", "bob's password", { readOnly: true });
  await assertRejects(() => t.store.users.add("alice", "another one!"), AlreadyExists);
  await assertRejects(() => t.store.users.add("bad name", "password!"), InvalidArgument);
  await assertRejects(() => t.store.users.add("carol", "short"), InvalidArgument);
  assertEquals((await t.store.users.verify("alice", "alice's password"))?.admin, true);
  assertEquals(await t.store.users.verify("alice", "wrong"), null);
  assertEquals(await t.store.users.verify("nobody", "x"), null);
  assertEquals((await t.store.users.list()).map((u) => [u.name, u.readOnly, u.admin]), [
    ["alice", false, true],
    ["bob", true, false],
  ]);
  const db = new DatabaseSync(t.path, { readOnly: true });
  const hash = String(db.prepare("SELECT hash FROM users WHERE name = 'alice'").get()?.hash);
  db.close();
  assert(hash.startsWith("$argon2id$") && !hash.includes("password"), hash);
  await t.store.users.remove("bob");
  await assertRejects(() => t.store.users.remove("bob"), NotFound);
});

Deno.test("digests are content-derived: equal content, equal digest", async () => {
  await using t = await tempStore();
  const vol = await t.store.volume();
  const data = randomBytes(2_500_000);
  await vol.writeFile("/a", data);
  await vol.writeFile("/b", data);
  await vol.copyFile("/a", "/c");
  const [a, b, c] = await Promise.all(["/a", "/b", "/c"].map((p) => vol.stat(p)));
  assert(a.digest && a.digest.length === 32);
  assertEquals(b.digest, a.digest);
  assertEquals(c.digest, a.digest);
  await vol.writeFile("/b", randomBytes(10));
  assertNotEquals((await vol.stat("/b")).digest, a.digest);
  await vol.writeFile("/e1", new Uint8Array());
  await using f = await vol.open("/e2", "w");
  await f.close();
  assertEquals((await vol.stat("/e1")).digest, (await vol.stat("/e2")).digest);
  assertEquals((await vol.stat("/")).digest, null);
});
