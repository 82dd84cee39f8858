/**
 * POSIX conformance on a real Trove mount, compared with tmpfs: every
 * scenario of tests/posix/ (each file type × each operation, as root and as
 * unprivileged users 65534 and 65533) runs through tests/posix/fsop.py in a
 * fresh directory on both, and the two transcripts must be equal. The
 * mount is made by root, so it serves every user (`allow_other`) and the
 * kernel checks permissions against the stored owners and modes.
 */

import { assertEquals } from "./_assert.ts";
import { IN_CI, tempDir, which } from "./_helpers.ts";
import { ignoreWithoutFuse, startMount, tmpfsDir } from "./_mount.ts";
import { scenarios, type Step } from "./posix/plan.ts";
import { ruleScenarios } from "./posix/plan_rules.ts";
import { Store } from "../mod.ts";

const FSOP = new URL("./posix/fsop.py", import.meta.url).pathname;
const python = which("python3");

/** Runs `steps` in `dir`; one observation per step. */
async function observe(dir: string, steps: Step[]): Promise<string[]> {
  const child = new Deno.Command(python!, {
    args: [FSOP],
    cwd: dir,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify({ steps })));
  await w.close();
  const out = await child.output();
  if (!out.success) throw new Error(`fsop.py failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** The steps where two transcripts differ, for the failure message. */
function differences(steps: Step[], ref: string[], got: string[]): string {
  const lines: string[] = [];
  steps.forEach((st, i) => {
    if (ref[i] === got[i]) return;
    const what = st.map((x) => (typeof x === "string" && x.length > 40 ? x.slice(0, 12) + "…" : x));
    lines.push(`    step ${i} ${JSON.stringify(what)}: tmpfs ${ref[i]}, trove ${got[i]}`);
  });
  return lines.join("\n");
}

const ALL = { ...scenarios(), ...ruleScenarios() };

Deno.test({
  name: `POSIX conformance: ${Object.keys(ALL).length} scenarios on a Trove mount equal tmpfs`,
  ignore: ignoreWithoutFuse() || (!python && !IN_CI),
  async fn() {
    if (!python) throw new Error("python3 is needed (apt install python3)");
    await using dir = await tempDir();
    (await Store.open(`${dir.path}/store.trove`, { create: true })).close();
    await using ref = await tmpfsDir();
    const m = await startMount(dir.path);
    const failures: string[] = [];
    let steps = 0;
    try {
      let i = 0;
      for (const [name, plan] of Object.entries(ALL)) {
        const slug = `s${i++}`;
        const [a, b] = [`${ref.path}/${slug}`, `${m.mnt}/${slug}`];
        for (const d of [a, b]) {
          await Deno.mkdir(d);
          await Deno.chmod(d, 0o755);
        }
        const expected = await observe(a, plan);
        const got = await observe(b, plan);
        steps += plan.length;
        if (JSON.stringify(got) !== JSON.stringify(expected)) {
          failures.push(`${name}:\n${differences(plan, expected, got)}`);
        }
      }
    } finally {
      assertEquals(await m.stop(), 0, m.stderr());
    }
    console.error(`${steps} steps in ${Object.keys(ALL).length} scenarios compared`);
    assertEquals(failures, [], `${failures.length} scenarios differ:\n${failures.join("\n")}`);
    await using store = await Store.open(`${dir.path}/store.trove`);
    assertEquals((await store.check()).problems, []);
  },
});
