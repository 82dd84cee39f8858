/**
 * `trove cat`: writes files to standard output, streaming.
 *
 * @module
 */

import { type Command, expectArgs, openSession, SNAPSHOT_OPTION, volPath } from "./_common.ts";

export const command: Command = {
  name: "cat",
  summary: "write files to standard output",
  usage: `trove cat PATH...

Streams each file's current version (read as one consistent snapshot, even
while others write) to standard output.

Options:
  --snapshot NAME   read snapshot NAME instead of the live volume

Examples:
  trove cat /docs/plan.md
  trove cat /backup/db.dump | pg_restore -d app`,
  options: { ...SNAPSHOT_OPTION },
  async run(args) {
    const paths = expectArgs(args, 1, Infinity, "a PATH").map(volPath);
    await using s = await openSession(args);
    for (const p of paths) {
      const handle = await s.fs.open(p, { read: true, snapshot: true });
      await handle.readable.pipeTo(Deno.stdout.writable, { preventClose: true });
    }
  },
};
