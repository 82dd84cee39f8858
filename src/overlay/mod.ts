/**
 * Layered volumes: a writable upper volume over read-only lower layers in
 * priority order (base game, then DLC, then the user's mods), as one
 * `FileSystem`: the layers and every read (`stack.ts`), the writes
 * (`overlay.ts`). Reads resolve top-down and directories
 * merge; a write to a lower file copies it up first (sharing its chunks
 * when both layers are unencrypted volumes of one store); removing a lower
 * entry leaves a whiteout. The upper layer records whiteouts and opaque
 * directories the way Linux overlayfs does: a whiteout is a character
 * device 0/0, an opaque directory has `trusted.overlay.opaque` = `y`
 * (`layers.ts` resolves paths through the layers).
 *
 * `check` keeps the markers meaningful (`room.ts`).
 *
 * May import: `src/volume/`, `src/store/`, `src/db/` (its invariant),
 * `src/errors.ts`, `src/paths.ts`, `src/types.ts`.
 *
 * @module
 */

export { type LayerInfo, type LayerSource, Overlay, type OverlayOptions } from "./overlay.ts";
export { overlayRoom } from "./room.ts";
