/**
 * `trove cat`: writes files to standard output, streaming.
 *
 * @module
 */

import { type Command, expectArgs, openSession, volPath } from "./_common.ts";

export const command: Command = {
  name: "cat",
  summary: "write files to standard output",
  usage: `trove cat PATH...

Streams each file's current version (read as one consistent snapshot, even
while others write) to standard output.

Examples:
  trove cat /docs/plan.md
  trove cat /backup/db.dump | pg_restore -d app`,
  options: {},
  async run(args) {
    const paths = expectArgs(args, 1, Infinity, "a PATH").map(volPath);
    await using s = await openSession(args);
    for (const p of paths) {
      const handle = await s.vol.open(p, { read: true, snapshot: true });
      await handle.readable.pipeTo(Deno.stdout.writable, { preventClose: true });
    }
  },
};
