/**
 * `trove gc`: collects garbage and returns free space to the file system.
 *
 * @module
 */

import { type Command, expectArgs, human, openStore, plural, printJson } from "./_common.ts";
import { ProgressBar, progressWanted } from "./_progress.ts";

export const command: Command = {
  name: "gc",
  summary: "free unreferenced chunks and shrink the store file",
  usage: `trove gc

Reaps sessions of processes that died, drops what they left half-written,
deletes chunks nothing refers to, and gives the free pages back to the file
system. Safe while other processes use the store.

Examples:
  trove gc
  trove gc --json`,
  options: {},
  async run(args) {
    expectArgs(args, 0, 0, "");
    await using store = await openStore(args);
    const bar = new ProgressBar("gc", { enabled: progressWanted(!!args.values.json) });
    bar.update(0);
    const report = await store.gc().finally(() => bar.finish());
    if (args.values.json) return printJson(report);
    console.log(
      `dropped ${plural(report.chunksDropped, "chunk")}, ${
        plural(report.nodesDropped, "unlinked node")
      } and ${plural(report.pendingVersionsDropped, "abandoned write")} of ${
        plural(report.sessionsReaped, "dead session")
      }; the file shrank by ${human(report.fileBytesFreed)}`,
    );
  },
};
