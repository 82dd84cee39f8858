import { assert, assertEquals } from "./_assert.ts";
import { Store } from "../mod.ts";
import { spawnFixture, tempStore } from "./_helpers.ts";

Deno.test("two writer processes and a reader share a store without 'database is locked'", async () => {
  await using t = await tempStore();
  await t.store.close();
  const rounds = 30;
  const procs = [
    spawnFixture("worker_proc.ts", ["writer", t.path, "1", String(rounds)]),
    spawnFixture("worker_proc.ts", ["writer", t.path, "2", String(rounds)]),
    spawnFixture("worker_proc.ts", ["reader", t.path, "200", String(rounds)]),
  ];
  const outs = await Promise.all(procs.map((p) => p.output()));
  const text = outs.map((o) =>
    new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr)
  );
  outs.forEach((o, i) => assertEquals(o.code, 0, text[i]));
  assert(text[2].includes("reader done"), text[2]);
  const store = await Store.open(t.path);
  const vol = await store.volume();
  const report = await store.check({ verify: true });
  assert(report.ok, JSON.stringify(report.problems));
  for (const id of [1, 2]) {
    const names: string[] = [];
    for await (const e of vol.readDir(`/w${id}`)) names.push(e.name);
    assertEquals(names.sort(), [`g${rounds - 1}`, `g${rounds}`]);
  }
  await store.close();
});
