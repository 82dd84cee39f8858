/**
 * `trove trash ls|restore|empty|set`: what removes took away, kept for a while.
 *
 * @module
 */

import {
  type Command,
  human,
  openSession,
  type Parsed,
  parseSize,
  printJson,
  subcommand,
  table,
  UsageError,
  volPath,
} from "./_common.ts";

async function list(args: Parsed): Promise<void> {
  await using s = await openSession(args);
  const entries = await s.vol.trash();
  if (args.values.json) return printJson(entries);
  console.log(table([
    ["ID", "DELETED", "KIND", "SIZE", "PATH"],
    ...entries.map((e) => [String(e.id), e.deleted.toISOString(), e.kind, human(e.size), e.path]),
  ]));
}

async function settings(args: Parsed): Promise<void> {
  await using s = await openSession(args, { write: true });
  const v = args.values;
  const enabled = v.on ? true : v.off ? false : undefined;
  const days = v.days === undefined ? undefined : v.days === "none" ? null : Number(v.days);
  if (days !== undefined && days !== null && !(days >= 0)) {
    throw new UsageError(`--days takes a number of days or "none", not ${v.days}`);
  }
  const max = v.max === undefined
    ? undefined
    : v.max === "none"
    ? null
    : parseSize(v.max as string);
  if (enabled !== undefined || days !== undefined || max !== undefined) {
    await s.vol.setTrash({ enabled, retentionDays: days, maxBytes: max });
  }
  const now = await s.vol.trashSettings();
  if (args.values.json) return printJson(now);
  console.log(
    `trash ${now.enabled ? "on" : "off"}; kept ${
      now.retentionDays === null ? "until emptied" : `${now.retentionDays} days`
    }; cap ${now.maxBytes === null ? "none" : human(now.maxBytes)}`,
  );
}

export const command: Command = {
  name: "trash",
  summary: "list, restore and empty what removes took away",
  usage: `trove trash ls [--json]
trove trash restore ID|PATH [--to PATH]
trove trash empty [--older-than DAYS]
trove trash set [--on | --off] [--days N|none] [--max SIZE|none]

With a volume's trash on (the default), "trove rm", WebDAV DELETE and the
mount's unlink keep what they remove here, for 30 days unless set otherwise
(an empty directory removed on its own is not kept). "restore" puts an
entry back where it was (or at --to), by its ID or the path it had; a taken
path is refused. "trove gc" purges expired entries; a write that would pass
the volume's capacity purges the oldest first. The trash is browsable
read-only as /.trash over WebDAV and on the mount.

Examples:
  trove rm -r /old && trove trash ls
  trove trash restore /old
  trove trash restore 12 --to /recovered/report.pdf
  trove trash set --days 7 --max 10G`,
  options: {
    to: { type: "string" },
    "older-than": { type: "string" },
    on: { type: "boolean" },
    off: { type: "boolean" },
    days: { type: "string" },
    max: { type: "string" },
  },
  async run(args) {
    const { verb, rest, want } = subcommand(args, "trash");
    switch (verb) {
      case "ls":
      case "list":
        want(0, 0, "");
        return await list(args);
      case "restore": {
        want(1, 1, "an ID or a PATH");
        await using s = await openSession(args, { write: true });
        const what = /^\d+$/.test(rest[0]) ? Number(rest[0]) : volPath(rest[0]);
        const to = args.values.to === undefined ? undefined : volPath(args.values.to as string);
        const at = await s.vol.undelete(what, { to });
        return args.values.json ? printJson({ path: at }) : console.log(at);
      }
      case "empty": {
        want(0, 0, "");
        await using s = await openSession(args, { write: true });
        const days = args.values["older-than"];
        if (days !== undefined && !(Number(days) >= 0)) {
          throw new UsageError(`--older-than takes a number of days, not ${days}`);
        }
        const olderThan = days === undefined
          ? undefined
          : new Date(Date.now() - Number(days) * 24 * 3600 * 1000);
        const n = await s.vol.emptyTrash({ olderThan });
        return args.values.json ? printJson({ purged: n }) : console.log(`purged ${n}`);
      }
      case "set":
        want(0, 0, "");
        if (args.values.on && args.values.off) throw new UsageError("--on and --off contradict");
        return await settings(args);
      default:
        throw new UsageError(
          verb === undefined
            ? "trash needs ls, restore, empty or set"
            : `unknown trash command ${verb}`,
        );
    }
  },
};
