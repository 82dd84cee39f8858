/**
 * Moving trees between file systems and files: `copy_across.ts` copies a
 * tree with its metadata from one file system to another; `pack.ts`
 * writes a subtree as a self-contained store file and brings one back.
 *
 * May import: `src/store/`, `src/volume/` (types), `src/db/`, `src/paths.ts`, `src/errors.ts`,
 * `src/types.ts`.
 *
 * @module
 */

export {
  copyAcross,
  type CopyTarget,
  type TransferOptions,
  type TransferProgress,
  treeBytes,
} from "./copy_across.ts";
export { pack, type PackOptions, unpack, type UnpackOptions } from "./pack.ts";
