/**
 * `deno task compile` end to end: build the single binary and use it for
 * real (init, put a tree, get it back, check, serve over HTTP). `deno
 * compile` needs a `denort` runtime, which it downloads from Deno's own
 * server; where that is unreachable and `DENORT_BIN` names none, the test is
 * reported as ignored, with the reason on stderr (every command is also
 * covered through `deno run` in cli_test.ts).
 */

import { assert, assertEquals } from "./_assert.ts";
import { taskArgs } from "./_cli.ts";
import { randomBytes, run, sameBytes, tempDir, waitForLine } from "./_helpers.ts";

function runtime(): string | null {
  const bin = Deno.env.get("DENORT_BIN");
  if (!bin) return null;
  try {
    return Deno.statSync(bin).isFile ? bin : null;
  } catch {
    return null;
  }
}

const denort = runtime();
if (!denort) {
  console.error(
    "note: the compile test is ignored: no denort runtime (DENORT_BIN unset or missing, and deno compile cannot download one from this machine)",
  );
}

Deno.test({
  name: "the compiled trove binary works end to end",
  ignore: denort === null,
}, async () => {
  await using dir = await tempDir();
  const d = dir.path;
  const args = taskArgs("compile");
  args[args.indexOf("--output") + 1] = `${d}/trove`;
  await run(Deno.execPath(), args, { cwd: new URL("../", import.meta.url).pathname });
  const bin = `${d}/trove`;
  const version = await new Deno.Command(bin, { args: ["--version"], stdout: "piped" }).output();
  assertEquals(
    new TextDecoder().decode(version.stdout).trim(),
    "trove 0.1.0",
    `DENORT_BIN (${denort}) did not produce a working binary`,
  );
  await run(bin, ["init"], { cwd: d });
  await Deno.mkdir(`${d}/tree/sub`, { recursive: true });
  const big = randomBytes(3 << 20, 8);
  await Deno.writeFile(`${d}/tree/sub/big.bin`, big);
  await Deno.writeTextFile(`${d}/tree/a.txt`, "a");
  await run(bin, ["put", "tree", "/tree"], { cwd: d });
  await run(bin, ["get", "/tree", "back"], { cwd: d });
  assert(sameBytes(await Deno.readFile(`${d}/back/sub/big.bin`), big));
  assertEquals(await Deno.readTextFile(`${d}/back/a.txt`), "a");
  const check = await run(bin, ["check", "--verify"], { cwd: d });
  assert(check.stdout.includes("clean"), check.stdout);
  const server = new Deno.Command(bin, {
    args: ["serve", "--listen", "127.0.0.1:0", "--quiet"],
    cwd: d,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const line = await waitForLine(server, (l) => l.startsWith("Trove is serving"));
    const url = line.match(/at (http:\/\/\S+)/)![1];
    assertEquals(await (await fetch(`${url}tree/a.txt`)).text(), "a");
  } finally {
    server.kill("SIGTERM");
    await server.status;
    await server.stdout.cancel().catch(() => {});
  }
});
