/**
 * The library's third-party modules, pinned, in one place. They are inline
 * `npm:` specifiers on purpose: a script anywhere may import Trove's
 * `mod.ts` by path or URL with plain `deno run`, and no `deno.json` of
 * Trove's is consulted then, so bare specifiers would not resolve.
 * `deno.lock` records their integrity.
 *
 * @module
 */

export { argon2id, argon2Verify } from "npm:hash-wasm@4.12.0";
export { hchacha, xchacha20poly1305 } from "npm:@noble/ciphers@2.4.0/chacha.js";
