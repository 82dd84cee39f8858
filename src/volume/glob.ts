/**
 * Glob patterns over volume paths: `*` and `?` within one name, `**` across
 * any number of directories, `[abc]`, `[a-z]` and `[!abc]` classes, `{a,b}`
 * alternatives, and `\` to escape.
 *
 * @module
 */

import { InvalidArgument } from "../errors.ts";

function escapeRegExp(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? "\\" + c : c;
}

/**
 * Compiles a glob to a RegExp matching whole canonical paths (`/a/b`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globToRegExp } from "./glob.ts";
 * const re = globToRegExp("/src/**\/*.ts");
 * assert(re.test("/src/a/b.ts") && re.test("/src/b.ts") && !re.test("/src/b.js"));
 * ```
 */
export function globToRegExp(glob: string): RegExp {
  if (glob.includes("\0")) throw new InvalidArgument("a pattern may not contain NUL");
  const g = glob.startsWith("/") ? glob : "/" + glob;
  let re = "^";
  let depth = 0;
  for (let i = 0; i < g.length; i++) {
    const c = g[i];
    if (c === "\\") {
      if (i + 1 < g.length) re += escapeRegExp(g[++i]);
      continue;
    }
    if (c === "*") {
      if (g[i + 1] === "*") {
        const before = i === 0 || g[i - 1] === "/";
        let j = i + 2;
        if (before && (j === g.length || g[j] === "/")) {
          // "/**/" matches "/" or "/any/depth/"; a trailing "/**" anything below.
          if (j === g.length) {
            // The "/" before "**" is already in `re`, escaped as "\/".
            re = re.endsWith("\\/") ? re.slice(0, -2) + "(?:/.*)?" : re + ".*";
          } else {
            re += "(?:[^/]+/)*";
            j++;
          }
          i = j - 1;
          continue;
        }
        re += "[^/]*";
        i++;
        continue;
      }
      re += "[^/]*";
      continue;
    }
    if (c === "?") {
      re += "[^/]";
      continue;
    }
    if (c === "[") {
      const close = g.indexOf("]", i + 2);
      if (close === -1) {
        re += "\\[";
        continue;
      }
      let body = g.slice(i + 1, close);
      const negate = body[0] === "!" || body[0] === "^";
      if (negate) body = body.slice(1);
      body = body.replace(/[\\\]^]/g, (m) => "\\" + m);
      re += negate ? `[^/${body}]` : `[${body}]`;
      i = close;
      continue;
    }
    if (c === "{") {
      re += "(?:";
      depth++;
      continue;
    }
    if (c === "}" && depth > 0) {
      re += ")";
      depth--;
      continue;
    }
    if (c === "," && depth > 0) {
      re += "|";
      continue;
    }
    re += escapeRegExp(c);
  }
  if (depth > 0) throw new InvalidArgument("unclosed '{' in pattern", glob);
  return new RegExp(re + "$", "u");
}

/** The longest leading directory of a glob without wildcards. */
export function globBase(glob: string): string {
  const parts = (glob.startsWith("/") ? glob : "/" + glob).split("/");
  const fixed: string[] = [];
  for (const p of parts.slice(0, -1)) {
    if (/[*?[{\\]/.test(p)) break;
    fixed.push(p);
  }
  return fixed.join("/") || "/";
}

/** True when a glob has no wildcards at all. */
export function isLiteralGlob(glob: string): boolean {
  return !/[*?[{\\]/.test(glob);
}
