/**
 * `trove snapshot create|list|rm|restore|diff`: a volume frozen at a moment.
 *
 * @module
 */

import {
  type Command,
  human,
  openSession,
  type Parsed,
  printJson,
  subcommand,
  table,
  UsageError,
  volPath,
} from "./_common.ts";

async function list(args: Parsed): Promise<void> {
  await using s = await openSession(args);
  const snaps = await s.vol.snapshots();
  if (args.values.json) return printJson(snaps);
  console.log(table([
    ["NAME", "CREATED", "FILES", "ONLY HERE"],
    ...snaps.map((x) => [x.name, x.created.toISOString(), String(x.files), human(x.bytes)]),
  ]));
}

export const command: Command = {
  name: "snapshot",
  summary: "freeze, list, compare, restore and remove snapshots of a volume",
  usage: `trove snapshot create [NAME]
trove snapshot list [--json]
trove snapshot diff NAME [OTHER]
trove snapshot restore NAME [--path PATH]
trove snapshot rm NAME

A snapshot is the whole volume frozen at a moment: read-only, sharing every
chunk (making one copies metadata only). NAME defaults to the time. Read one
with --snapshot NAME on ls, cat, get, find and tree; "diff" lists what
changed since NAME (or from NAME to OTHER): + added, - removed, M changed,
T another kind. "restore" brings the volume (or --path) back to NAME: what
it replaces stays as versions. "rm" frees what only that snapshot held.

Examples:
  trove snapshot create before-upgrade
  trove snapshot diff before-upgrade
  trove ls --snapshot before-upgrade /etc
  trove snapshot restore before-upgrade --path /etc/app.conf`,
  options: { path: { type: "string" } },
  async run(args) {
    const { verb, rest, want } = subcommand(args, "snapshot");
    switch (verb) {
      case "list":
      case "ls":
        want(0, 0, "");
        return await list(args);
      case "create": {
        want(0, 1, "");
        await using s = await openSession(args, { write: true });
        const name = await s.vol.createSnapshot(rest[0]);
        return args.values.json ? printJson({ name }) : console.log(name);
      }
      case "diff": {
        want(1, 2, "a NAME");
        await using s = await openSession(args);
        const changes = await s.vol.diffSnapshots(rest[0], rest[1]);
        if (args.values.json) return printJson(changes);
        for (const c of changes) console.log(`${c.change}\t${c.path}`);
        return;
      }
      case "restore": {
        want(1, 1, "a NAME");
        await using s = await openSession(args, { write: true });
        const path = args.values.path === undefined
          ? undefined
          : volPath(args.values.path as string);
        const r = await s.vol.restoreSnapshot(rest[0], { path });
        if (args.values.json) return printJson(r);
        console.log(`restored ${r.restored}, made again ${r.created}, removed ${r.removed}`);
        return;
      }
      case "rm":
      case "remove": {
        want(1, 1, "a NAME");
        await using s = await openSession(args, { write: true });
        await s.vol.removeSnapshot(rest[0]);
        return;
      }
      default:
        throw new UsageError(
          verb === undefined
            ? "snapshot needs create, list, diff, restore or rm"
            : `unknown snapshot command ${verb}`,
        );
    }
  },
};
