/**
 * The WebDAV `If` header (RFC 4918 §10.4): lists of conditions, each a
 * state token (a lock token, `<…>`) or an entity tag (`[…]`), optionally
 * negated with `Not`, either untagged (about the request URI) or tagged
 * with the resource they are about.
 *
 * @module
 */

/** One condition of a list. */
export interface Condition {
  not: boolean;
  /** A state token (a lock token URI), when the condition is one. */
  token?: string;
  /** An entity tag (with its quotes, maybe `W/`), when the condition is one. */
  etag?: string;
}

/** One list: true when all its conditions hold for its resource. */
export interface IfList {
  /** The tagged resource (a URL or path), or null for the request URI. */
  resource: string | null;
  conditions: Condition[];
}

/** A malformed `If` header; the server answers 400. */
export class IfHeaderError extends Error {
  override name = "IfHeaderError";
}

/**
 * Parses an `If` header value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseIf } from "./if_header.ts";
 * const lists = parseIf('(<opaquelocktoken:a> ["etag"]) (Not <DAV:no-lock>)');
 * assert(lists.length === 2 && lists[1].conditions[0].not);
 * ```
 */
export function parseIf(value: string): IfList[] {
  const lists: IfList[] = [];
  let i = 0;
  const n = value.length;
  let tagged: boolean | null = null;
  let resource: string | null = null;
  const fail = (msg: string): never => {
    throw new IfHeaderError(`malformed If header: ${msg}`);
  };
  const space = () => {
    while (i < n && " \t".includes(value[i])) i++;
  };
  const until = (end: string): string => {
    const j = value.indexOf(end, i);
    if (j < 0) fail(`missing '${end}'`);
    const s = value.slice(i, j);
    i = j + 1;
    return s;
  };
  while (true) {
    space();
    if (i >= n) break;
    if (value[i] === "<") {
      if (tagged === false) fail("a resource tag after untagged lists");
      tagged = true;
      i++;
      resource = until(">");
      space();
      if (value[i] !== "(") fail("a resource tag without a list");
      continue;
    }
    if (value[i] !== "(") fail(`unexpected '${value[i]}'`);
    if (tagged === null) tagged = false;
    i++;
    const conditions: Condition[] = [];
    while (true) {
      space();
      if (value[i] === ")") {
        i++;
        break;
      }
      let not = false;
      if (value.startsWith("Not", i)) {
        not = true;
        i += 3;
        space();
      }
      if (value[i] === "<") {
        i++;
        const token = until(">");
        if (token === "") fail("empty state token");
        conditions.push({ not, token });
      } else if (value[i] === "[") {
        i++;
        const etag = until("]");
        if (!/^(W\/)?"[^"]*"$/.test(etag)) fail(`bad entity tag ${etag}`);
        conditions.push({ not, etag });
      } else {
        fail("expected a state token or an entity tag");
      }
    }
    if (conditions.length === 0) fail("an empty list");
    lists.push({ resource: tagged ? resource : null, conditions });
  }
  if (lists.length === 0) fail("no lists");
  return lists;
}

/** Every state token an `If` header mentions: the lock tokens it submits. */
export function submittedTokens(lists: IfList[]): Set<string> {
  const out = new Set<string>();
  for (const l of lists) for (const c of l.conditions) if (c.token) out.add(c.token);
  return out;
}
