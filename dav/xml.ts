/**
 * A small, strict XML parser and writer for WebDAV bodies. Namespace-aware
 * (elements and attributes carry their namespace URI). No DTD support at
 * all: a document with a DOCTYPE is refused, so no entity can be declared,
 * expanded or resolved (no XXE, no billion laughs). Only the five
 * predefined entities and character references are understood. Depth and
 * size are bounded by the caller's body limit and {@linkcode MAX_DEPTH}.
 *
 * @module
 */

/** An XML element: its namespace URI ("" for none), local name, attributes, content. */
export interface XmlElement {
  ns: string;
  name: string;
  /** Attributes by `{ns}name` (Clark notation; `name` alone without a namespace). */
  attrs: Map<string, string>;
  children: (XmlElement | string)[];
}

/** A malformed document; the server answers 400. */
export class XmlError extends Error {
  override name = "XmlError";
}

/** Deepest nesting accepted. */
export const MAX_DEPTH = 64;

const XML_NS = "http://www.w3.org/XML/1998/namespace";
const XMLNS_NS = "http://www.w3.org/2000/xmlns/";
const NAME_START =
  /[A-Za-z_\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]/;
const NAME_CHAR =
  /[-.0-9\u00B7\u0300-\u036F\u203F-\u2040A-Za-z_\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD:]/;

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

type Scope = Map<string, string>;

/** The parser's state: the text and where it is in it. */
class Parser {
  readonly text: string;
  i = 0;

  constructor(text: string) {
    this.text = text;
  }

  fail(msg: string): never {
    throw new XmlError(`${msg} at offset ${this.i}`);
  }

  at(s: string): boolean {
    return this.text.startsWith(s, this.i);
  }

  skipSpace(): void {
    while (this.i < this.text.length && " \t\r\n".includes(this.text[this.i])) this.i++;
  }

  /** Moves past `end`, searched from `from` characters on; fails with `what` if absent. */
  skipPast(end: string, from: number, what: string): void {
    const at = this.text.indexOf(end, this.i + from);
    if (at < 0) this.fail(`unterminated ${what}`);
    this.i = at + end.length;
  }

  readName(): string {
    const start = this.i;
    if (this.i >= this.text.length || !NAME_START.test(this.text[this.i])) {
      this.fail("expected a name");
    }
    this.i++;
    while (this.i < this.text.length && NAME_CHAR.test(this.text[this.i])) this.i++;
    return this.text.slice(start, this.i);
  }

  /** Replaces entity and character references (only the predefined five). */
  decode(raw: string): string {
    return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);|&/g, (m, ref: string | undefined) => {
      if (!ref) this.fail("stray '&'");
      if (ref[0] === "#") {
        const cp = ref[1] === "x" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
        if (!isXmlChar(cp)) this.fail("invalid character reference");
        return String.fromCodePoint(cp);
      }
      const e = ENTITIES[ref];
      if (e === undefined) this.fail(`undefined entity &${ref};`);
      return e ?? m;
    });
  }

  /** Whitespace, comments and processing instructions around the root; no DOCTYPE. */
  skipMisc(): void {
    while (true) {
      this.skipSpace();
      if (this.at("<!--")) this.skipPast("-->", 4, "comment");
      else if (this.at("<?")) this.skipPast("?>", 2, "processing instruction");
      else if (this.at("<!DOCTYPE") || this.at("<!doctype")) this.fail("a DOCTYPE is not accepted");
      else return;
    }
  }

  /** The attributes of a start tag, raw (names with prefixes, values decoded). */
  rawAttributes(): [string, string][] {
    const raw: [string, string][] = [];
    while (true) {
      const before = this.i;
      this.skipSpace();
      if (this.at("/>") || this.text[this.i] === ">") return raw;
      if (this.i === before) this.fail("expected whitespace between attributes");
      const an = this.readName();
      this.skipSpace();
      if (this.text[this.i] !== "=") this.fail("expected '='");
      this.i++;
      this.skipSpace();
      const q = this.text[this.i];
      if (q !== '"' && q !== "'") this.fail("expected a quoted attribute value");
      const end = this.text.indexOf(q, this.i + 1);
      if (end < 0) this.fail("unterminated attribute value");
      const value = this.text.slice(this.i + 1, end);
      if (value.includes("<")) this.fail("'<' in an attribute value");
      if (raw.some(([k]) => k === an)) this.fail(`duplicate attribute ${an}`);
      raw.push([an, this.decode(value)]);
      this.i = end + 1;
    }
  }

  /** The namespace scope of an element: its parent's, with its own declarations. */
  scopeOf(parent: Scope, raw: [string, string][]): Scope {
    const scope: Scope = new Map(parent);
    for (const [an, value] of raw) {
      if (an === "xmlns") {
        scope.set("", value);
      } else if (an.startsWith("xmlns:")) {
        const prefix = an.slice(6);
        if (value === "") this.fail(`prefix '${prefix}' bound to no namespace`);
        if (prefix === "xmlns" || (prefix === "xml") !== (value === XML_NS)) {
          this.fail(`reserved prefix or namespace misused: ${prefix}`);
        }
        scope.set(prefix, value);
      }
    }
    return scope;
  }

  /** A qualified name as namespace URI and local name. */
  resolve(scope: Scope, q: string, isAttr: boolean): [string, string] {
    const c = q.indexOf(":");
    if (c < 0) return [isAttr ? "" : scope.get("") ?? "", q];
    const prefix = q.slice(0, c);
    const local = q.slice(c + 1);
    if (local === "" || local.includes(":")) this.fail(`invalid name ${q}`);
    const ns = scope.get(prefix);
    if (ns === undefined) this.fail(`undeclared prefix '${prefix}'`);
    return [ns, local];
  }

  element(parent: Scope, depth: number): XmlElement {
    if (depth > MAX_DEPTH) this.fail("elements nested too deeply");
    this.i++; // "<"
    const qname = this.readName();
    const raw = this.rawAttributes();
    const scope = this.scopeOf(parent, raw);
    const [ns, name] = this.resolve(scope, qname, false);
    const attrs = new Map<string, string>();
    for (const [an, value] of raw) {
      if (an === "xmlns" || an.startsWith("xmlns:")) continue;
      const [ans, alocal] = this.resolve(scope, an, true);
      const key = ans ? `{${ans}}${alocal}` : alocal;
      if (attrs.has(key)) this.fail(`duplicate attribute ${key}`);
      attrs.set(key, value);
    }
    const el: XmlElement = { ns, name, attrs, children: [] };
    if (this.at("/>")) {
      this.i += 2;
      return el;
    }
    this.i++; // ">"
    this.content(el, { qname, scope, depth });
    return el;
  }

  /** An element's content up to and including its end tag. */
  content(el: XmlElement, open: { qname: string; scope: Scope; depth: number }): void {
    let text = "";
    const flush = () => {
      if (text) el.children.push(text);
      text = "";
    };
    while (true) {
      const lt = this.text.indexOf("<", this.i);
      if (lt < 0) this.fail(`unclosed element ${open.qname}`);
      if (lt > this.i) {
        const chunk = this.text.slice(this.i, lt);
        if (chunk.includes("]]>")) this.fail("']]>' in text");
        text += this.decode(chunk);
        this.i = lt;
      }
      if (this.at("</")) {
        this.i += 2;
        const close = this.readName();
        if (close !== open.qname) this.fail(`mismatched </${close}> for <${open.qname}>`);
        this.skipSpace();
        if (this.text[this.i] !== ">") this.fail("expected '>'");
        this.i++;
        return flush();
      }
      if (this.at("<!--")) this.skipPast("-->", 4, "comment");
      else if (this.at("<![CDATA[")) {
        const end = this.text.indexOf("]]>", this.i + 9);
        if (end < 0) this.fail("unterminated CDATA");
        text += this.text.slice(this.i + 9, end);
        this.i = end + 3;
      } else if (this.at("<?")) this.skipPast("?>", 2, "processing instruction");
      else if (this.at("<!")) this.fail("markup declarations are not accepted");
      else {
        flush();
        el.children.push(this.element(open.scope, open.depth + 1));
      }
    }
  }
}

/**
 * Parses a document; throws {@linkcode XmlError} when it is not well-formed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseXml } from "./xml.ts";
 * const el = parseXml('<D:prop xmlns:D="DAV:"><D:getetag/></D:prop>');
 * assert(el.ns === "DAV:" && el.name === "prop");
 * ```
 */
export function parseXml(text: string): XmlElement {
  const p = new Parser(text);
  if (text.charCodeAt(0) === 0xfeff) p.i = 1;
  p.skipMisc();
  if (text[p.i] !== "<") p.fail("expected the root element");
  const root = p.element(new Map([["xml", XML_NS]]), 0);
  p.skipMisc();
  if (p.i < text.length) p.fail("content after the root element");
  return root;
}

/** Child elements of an element (text dropped). */
export function elements(el: XmlElement): XmlElement[] {
  return el.children.filter((c): c is XmlElement => typeof c !== "string");
}

/** The first child element with this namespace and name. */
export function child(el: XmlElement, ns: string, name: string): XmlElement | undefined {
  return elements(el).find((c) => c.ns === ns && c.name === name);
}

const ESCAPES: Readonly<Record<string, string>> = {
  "<": "&lt;",
  ">": "&gt;",
  "&": "&amp;",
  '"': "&quot;",
};
const SPECIAL = /[<>&"]/;

/** Escapes text for element content or attribute values. */
export function escapeXml(s: string): string {
  // Most names and values need nothing: a listing escapes several strings an entry.
  return SPECIAL.test(s) ? s.replace(/[<>&"]/g, (c) => ESCAPES[c]) : s;
}

/**
 * Serialises an element so it can be embedded anywhere: every element
 * states its own default namespace (`xmlns="…"`, or `xmlns=""` for none),
 * and namespaced attributes get prefixes declared on the spot.
 */
export function serialize(el: XmlElement, inheritedDefault: string | null = null): string {
  let out = `<${el.name}`;
  if (el.ns !== inheritedDefault) out += ` xmlns="${escapeXml(el.ns)}"`;
  let p = 0;
  for (const [key, value] of el.attrs) {
    if (key.startsWith("{")) {
      const close = key.indexOf("}");
      const ns = key.slice(1, close);
      const local = key.slice(close + 1);
      if (ns === XML_NS) {
        out += ` xml:${local}="${escapeXml(value)}"`;
      } else if (ns !== XMLNS_NS) {
        out += ` xmlns:a${p}="${escapeXml(ns)}" a${p}:${local}="${escapeXml(value)}"`;
        p++;
      }
    } else {
      out += ` ${key}="${escapeXml(value)}"`;
    }
  }
  if (el.children.length === 0) return out + "/>";
  out += ">";
  for (const c of el.children) out += typeof c === "string" ? escapeXml(c) : serialize(c, el.ns);
  return out + `</${el.name}>`;
}
