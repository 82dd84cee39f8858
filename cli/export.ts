/**
 * `trove export`: a consistent copy of a live store.
 *
 * @module
 */

import { type Command, expectArgs, human, openStore, printJson } from "./_common.ts";
import { ProgressBar, progressWanted } from "./_progress.ts";

export const command: Command = {
  name: "export",
  summary: "write a consistent copy of the live store",
  usage: `trove export DEST

Copies the store, as one consistent state, to DEST while other processes
keep using it: written beside DEST and renamed into place, so DEST is
complete or absent. An existing DEST is refused.

Examples:
  trove export /backups/files-$(date +%F).trove`,
  options: {},
  async run(args) {
    const [dest] = expectArgs(args, 1, 1, "a DEST");
    await using store = await openStore(args, { readOnly: true });
    const bar = new ProgressBar("export", { enabled: progressWanted(!!args.values.json) });
    try {
      await store.export(dest, { onProgress: (done, total) => bar.update(done, total) });
    } finally {
      bar.finish();
    }
    const bytes = Deno.statSync(dest).size;
    if (args.values.json) printJson({ dest, bytes });
    else console.log(`exported ${store.path} to ${dest} (${human(bytes)})`);
  },
};
