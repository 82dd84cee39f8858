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

/** Parses a document; throws {@linkcode XmlError} when it is not well-formed. */
export function parseXml(text: string): XmlElement {
  let i = 0;
  const n = text.length;
  const fail = (msg: string): never => {
    throw new XmlError(`${msg} at offset ${i}`);
  };
  const skipSpace = () => {
    while (i < n && " \t\r\n".includes(text[i])) i++;
  };
  const startsWith = (s: string) => text.startsWith(s, i);
  const readName = (): string => {
    const start = i;
    if (i >= n || !NAME_START.test(text[i])) fail("expected a name");
    i++;
    while (i < n && NAME_CHAR.test(text[i])) i++;
    return text.slice(start, i);
  };
  const decode = (raw: string): string =>
    raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);|&/g, (m, ref: string | undefined) => {
      if (!ref) fail("stray '&'");
      if (ref![0] === "#") {
        const cp = ref![1] === "x" ? parseInt(ref!.slice(2), 16) : parseInt(ref!.slice(1), 10);
        if (!isXmlChar(cp)) fail("invalid character reference");
        return String.fromCodePoint(cp);
      }
      const e = ENTITIES[ref!];
      if (e === undefined) fail(`undefined entity &${ref};`);
      return e ?? m;
    });
  const skipMisc = () => {
    while (true) {
      skipSpace();
      if (startsWith("<!--")) {
        const end = text.indexOf("-->", i + 4);
        if (end < 0) fail("unterminated comment");
        i = end + 3;
      } else if (startsWith("<?")) {
        const end = text.indexOf("?>", i + 2);
        if (end < 0) fail("unterminated processing instruction");
        i = end + 2;
      } else if (startsWith("<!DOCTYPE") || startsWith("<!doctype")) {
        fail("a DOCTYPE is not accepted");
      } else return;
    }
  };

  if (text.charCodeAt(0) === 0xfeff) i = 1;
  skipMisc();
  if (text[i] !== "<") fail("expected the root element");
  type Scope = Map<string, string>;
  const root = parseElement(new Map([["xml", XML_NS]]), 0);
  skipMisc();
  if (i < n) fail("content after the root element");
  return root;

  function parseElement(parent: Scope, depth: number): XmlElement {
    if (depth > MAX_DEPTH) fail("elements nested too deeply");
    i++; // "<"
    const qname = readName();
    const raw: [string, string][] = [];
    while (true) {
      const before = i;
      skipSpace();
      if (startsWith("/>") || text[i] === ">") break;
      if (i === before) fail("expected whitespace between attributes");
      const an = readName();
      skipSpace();
      if (text[i] !== "=") fail("expected '='");
      i++;
      skipSpace();
      const q = text[i];
      if (q !== '"' && q !== "'") fail("expected a quoted attribute value");
      const end = text.indexOf(q, i + 1);
      if (end < 0) fail("unterminated attribute value");
      const value = text.slice(i + 1, end);
      if (value.includes("<")) fail("'<' in an attribute value");
      if (raw.some(([k]) => k === an)) fail(`duplicate attribute ${an}`);
      raw.push([an, decode(value)]);
      i = end + 1;
    }
    const scope: Scope = new Map(parent);
    for (const [an, value] of raw) {
      if (an === "xmlns") {
        scope.set("", value);
      } else if (an.startsWith("xmlns:")) {
        const prefix = an.slice(6);
        if (value === "") fail(`prefix '${prefix}' bound to no namespace`);
        if (prefix === "xmlns" || (prefix === "xml") !== (value === XML_NS)) {
          fail(`reserved prefix or namespace misused: ${prefix}`);
        }
        scope.set(prefix, value);
      }
    }
    const resolve = (q: string, isAttr: boolean): [string, string] => {
      const c = q.indexOf(":");
      if (c < 0) return [isAttr ? "" : scope.get("") ?? "", q];
      const prefix = q.slice(0, c);
      const local = q.slice(c + 1);
      if (local === "" || local.includes(":")) fail(`invalid name ${q}`);
      const ns = scope.get(prefix);
      if (ns === undefined) fail(`undeclared prefix '${prefix}'`);
      return [ns!, local];
    };
    const [ns, name] = resolve(qname, false);
    const attrs = new Map<string, string>();
    for (const [an, value] of raw) {
      if (an === "xmlns" || an.startsWith("xmlns:")) continue;
      const [ans, alocal] = resolve(an, true);
      const key = ans ? `{${ans}}${alocal}` : alocal;
      if (attrs.has(key)) fail(`duplicate attribute ${key}`);
      attrs.set(key, value);
    }
    const el: XmlElement = { ns, name, attrs, children: [] };
    if (startsWith("/>")) {
      i += 2;
      return el;
    }
    i++; // ">"
    let textBuf = "";
    const flush = () => {
      if (textBuf) el.children.push(textBuf);
      textBuf = "";
    };
    while (true) {
      if (i >= n) fail(`unclosed element ${qname}`);
      const lt = text.indexOf("<", i);
      if (lt < 0) fail(`unclosed element ${qname}`);
      if (lt > i) {
        const chunk = text.slice(i, lt);
        if (chunk.includes("]]>")) fail("']]>' in text");
        textBuf += decode(chunk);
        i = lt;
      }
      if (startsWith("</")) {
        i += 2;
        const close = readName();
        if (close !== qname) fail(`mismatched </${close}> for <${qname}>`);
        skipSpace();
        if (text[i] !== ">") fail("expected '>'");
        i++;
        flush();
        return el;
      }
      if (startsWith("<!--")) {
        const end = text.indexOf("-->", i + 4);
        if (end < 0) fail("unterminated comment");
        i = end + 3;
      } else if (startsWith("<![CDATA[")) {
        const end = text.indexOf("]]>", i + 9);
        if (end < 0) fail("unterminated CDATA");
        textBuf += text.slice(i + 9, end);
        i = end + 3;
      } else if (startsWith("<?")) {
        const end = text.indexOf("?>", i + 2);
        if (end < 0) fail("unterminated processing instruction");
        i = end + 2;
      } else if (startsWith("<!")) {
        fail("markup declarations are not accepted");
      } else {
        flush();
        el.children.push(parseElement(scope, depth + 1));
      }
    }
  }
}

/** Child elements of an element (text dropped). */
export function elements(el: XmlElement): XmlElement[] {
  return el.children.filter((c): c is XmlElement => typeof c !== "string");
}

/** The first child element with this namespace and name. */
export function child(el: XmlElement, ns: string, name: string): XmlElement | undefined {
  return elements(el).find((c) => c.ns === ns && c.name === name);
}

/** The concatenated text content of an element and its descendants. */
export function textOf(el: XmlElement): string {
  return el.children.map((c) => (typeof c === "string" ? c : textOf(c))).join("");
}

/** Escapes text for element content or attribute values. */
export function escapeXml(s: string): string {
  return s.replace(
    /[<>&"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!,
  );
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
