/**
 * `trove check`: fsck. Exit codes: 0 clean, 20 problems found and all
 * repaired, 21 problems remain (damage, or repairable problems without
 * --repair).
 *
 * @module
 */

import { type CheckReport, Corrupt } from "../mod.ts";
import {
  type Command,
  credential,
  expectArgs,
  openStore,
  type Parsed,
  plural,
  printJson,
} from "./_common.ts";
import { ProgressBar, progressWanted } from "./_progress.ts";

/** Exit code of a check that repaired every problem it found. */
export const EXIT_REPAIRED = 20;
/** Exit code of a check that left problems. */
export const EXIT_DAMAGE = 21;

function canAsk(args: { values: Record<string, unknown> }): boolean {
  if (args.values["key-file"] || args.values["passphrase-file"]) return true;
  try {
    if (Deno.env.get("TROVE_PASSPHRASE")) return true;
  } catch { /* no env permission */ }
  return Deno.stdin.isTerminal();
}

export const command: Command = {
  name: "check",
  summary: "check the store's consistency (fsck)",
  usage: `trove check [--verify] [--repair]

Checks every invariant of the store: SQLite's own integrity, link counts,
reference counts, dangling entries, orphan chunks, abandoned writes.

Options:
  --verify   also read every chunk and check its hash (and, for encrypted
             volumes unlocked here, its seal); reads the whole store
  --repair   fix what can be fixed without guessing (counts, orphans,
             abandoned writes); the rest is reported as damage

Exit codes: 0 clean; ${EXIT_REPAIRED} problems found and all repaired; ${EXIT_DAMAGE} problems remain
(damage, or fixable problems without --repair). Errors use the usual codes.

Examples:
  trove check
  trove check --verify --key-file vault.key
  trove check --repair --json`,
  options: { verify: { type: "boolean" }, repair: { type: "boolean" } },
  async run(args) {
    expectArgs(args, 0, 0, "");
    try {
      return await runCheck(args);
    } catch (e) {
      // A file SQLite itself cannot read is damage to report, not a crash.
      if (!(e instanceof Corrupt)) throw e;
      if (args.values.json) {
        printJson({
          ok: false,
          problems: [{ code: "sqlite", message: e.message, repaired: false }],
        });
      } else {
        console.log(`PROBLEM sqlite: ${e.message}`);
        console.log("1 problem remains (SQLite cannot read the file: restore it from a backup)");
      }
      return EXIT_DAMAGE;
    }
  },
};

async function runCheck(args: Parsed): Promise<number> {
  await using store = await openStore(args, { readOnly: !args.values.repair });
  if (args.values.verify) {
    // Chunks of encrypted volumes are verified once they are unlocked here.
    const encrypted = (await store.volumes()).filter((v) => v.encrypted);
    if (encrypted.length > 0 && canAsk(args)) {
      const secret = await credential(args, "passphrase for encrypted volumes");
      for (const v of encrypted) {
        await store.volume(v.name, { ...secret, readOnly: true }).catch(() => {});
      }
    }
  }
  const bar = new ProgressBar("verify", {
    enabled: !!args.values.verify && progressWanted(!!args.values.json),
    unit: "items",
  });
  let report: CheckReport;
  try {
    report = await store.check({
      verify: !!args.values.verify,
      repair: !!args.values.repair,
      onProgress: (done, total) => bar.update(done, total),
    });
  } finally {
    bar.finish();
  }
  if (args.values.json) printJson(report);
  else {
    const c = report.counts;
    const lines = [
      `checked ${plural(c.volumes, "volume")}, ${plural(c.nodes, "node")}, ${
        plural(c.entries, "entry", "entries")
      }, ${plural(c.versions, "version")}, ${plural(c.chunks, "chunk")}`,
    ];
    if (args.values.verify) {
      lines.push(
        `verified ${plural(c.chunksVerified, "chunk")} (${plural(c.bytesVerified, "byte")})${
          c.chunksSkipped > 0 ? `; ${c.chunksSkipped} of locked encrypted volumes skipped` : ""
        }`,
      );
    }
    if (report.pendingWrites > 0) {
      lines.push(`${plural(report.pendingWrites, "write")} in progress`);
    }
    for (const p of report.problems) {
      lines.push(`${p.repaired ? "repaired" : "PROBLEM"} ${p.code}: ${p.message}`);
    }
    lines.push(
      report.problems.length === 0
        ? "clean"
        : report.damage === 0
        ? `${plural(report.repaired, "problem")} repaired`
        : `${plural(report.damage, "problem")} ${report.damage === 1 ? "remains" : "remain"}${
          args.values.repair ? "" : " (try --repair)"
        }`,
    );
    console.log(lines.join("\n"));
  }
  if (report.problems.length === 0) return 0;
  return report.damage === 0 ? EXIT_REPAIRED : EXIT_DAMAGE;
}
