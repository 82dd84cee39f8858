/**
 * How large a file may grow.
 *
 * @module
 */

import { FileTooLarge } from "../errors.ts";

/**
 * Largest file size Trove accepts: 16 TiB, as ext4 with 4 KiB blocks. A
 * write or truncate past it fails with `FileTooLarge` (`EFBIG`), so no
 * request can make a sparse file that takes a client days to read.
 */
export const MAX_FILE_SIZE = 2 ** 44;

/** The error for a file that would grow to `size` bytes, past {@linkcode MAX_FILE_SIZE}. */
export function tooLarge(size: number): FileTooLarge {
  return new FileTooLarge(`a file may hold at most ${MAX_FILE_SIZE} bytes (16 TiB), not ${size}`);
}
