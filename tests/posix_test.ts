/**
 * The POSIX scenario suite on a real Trove mount and, as the reference, on
 * tmpfs: every scenario must observe the same thing on both.
 */

import { assertEquals } from "./_assert.ts";
import { ignoreWithoutFuse, startMount, tmpfsDir } from "./_mount.ts";
import { tempDir } from "./_helpers.ts";
import { scenarios } from "./posix_scenarios.ts";
import { Store } from "../mod.ts";

Deno.test({
  name: "POSIX scenarios give the same results on a Trove mount as on tmpfs",
  ignore: ignoreWithoutFuse(),
  async fn() {
    await using dir = await tempDir();
    (await Store.open(`${dir.path}/store.trove`, { create: true })).close();
    await using ref = await tmpfsDir();
    const m = await startMount(dir.path);
    try {
      const failures: string[] = [];
      for (const [name, run] of Object.entries(scenarios)) {
        const slug = name.replace(/\W+/g, "-");
        await Deno.mkdir(`${ref.path}/${slug}`);
        await Deno.mkdir(`${m.mnt}/${slug}`);
        const expected = JSON.stringify(await run(`${ref.path}/${slug}`));
        const got = JSON.stringify(await run(`${m.mnt}/${slug}`));
        if (got !== expected) failures.push(`${name}:\n  tmpfs: ${expected}\n  trove: ${got}`);
      }
      assertEquals(failures, [], failures.join("\n"));
    } finally {
      assertEquals(await m.stop(), 0, m.stderr());
    }
    await using store = await Store.open(`${dir.path}/store.trove`);
    assertEquals((await store.check()).problems, []);
  },
});
