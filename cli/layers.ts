/**
 * `trove layers`: the layers of a layered view, and which one serves a path.
 *
 * @module
 */

import {
  type Command,
  LAYER_OPTION,
  openSession,
  printJson,
  subcommand,
  table,
  UsageError,
  volPath,
  withLayers,
} from "./_common.ts";

export const command: Command = {
  name: "layers",
  summary: "list the layers of a layered view, or say which one serves a path",
  usage: `trove layers --layer STORE... [which PATH]

The volume (of --store) is the writable upper layer; each --layer STORE a
read-only one under it, the first named searched first (as trove serve and
trove mount take them). With "which PATH": the layer that serves PATH and
every layer that holds it.

Examples:
  trove --store user.trove layers --layer dlc.trove --layer base.trove
  trove --store user.trove layers --layer dlc.trove --layer base.trove which /maps/a.map`,
  options: { ...LAYER_OPTION },
  async run(args) {
    const { verb, rest, want } = subcommand(args, "layers");
    await using s = await openSession(args);
    await using layered = await withLayers(s.vol, args);
    const overlay = layered.overlay;
    if (!overlay) throw new UsageError("layers needs --layer STORE (one or more)");
    if (verb === undefined) {
      const layers = await overlay.layers();
      if (args.values.json) return printJson(layers);
      console.log(table([
        ["NAME", "PRIORITY", "WRITABLE", "STORE"],
        ...layers.map((l) => [l.name, String(l.priority), l.writable ? "yes" : "no", l.path ?? ""]),
      ]));
      return;
    }
    if (verb !== "which") throw new UsageError(`unknown layers command ${verb}`);
    want(1, 1, "a PATH");
    const d = await overlay.whichLayerDetailed(volPath(rest[0]));
    if (args.values.json) return printJson(d);
    console.log(d.winner ?? "(hidden by a whiteout)");
    for (const l of d.layers) console.log(`  ${l.name}: ${l.whiteout ? "whiteout" : l.kind}`);
  },
};
