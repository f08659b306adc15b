// Rich text from the knowledge base: an allow-list sanitiser that rebuilds a fragment from parsed HTML,
// and a plain-text rendering of the same markup. Nothing here ever assigns markup to innerHTML.

// Tag -> the attributes it may keep. Every other element is unwrapped: its text (and allowed children) stay.
const ALLOWED = {
  P: [],
  BR: [],
  B: [],
  STRONG: [],
  I: [],
  EM: [],
  U: [],
  UL: [],
  OL: [],
  LI: [],
  A: ["href"],
  IMG: ["src", "alt"],
};
// Elements whose content is code or metadata, not words for a reader: dropped with everything inside.
const DROPPED = new Set(["SCRIPT", "STYLE", "TEMPLATE", "NOSCRIPT", "IFRAME", "OBJECT", "EMBED", "SVG", "MATH", "HEAD", "TITLE"]);
const BLOCKS = new Set(["P", "DIV", "LI", "UL", "OL", "H1", "H2", "H3", "H4", "H5", "H6", "TR", "TABLE", "BLOCKQUOTE", "PRE", "SECTION", "ARTICLE", "HEADER", "FOOTER"]);
const MAX_DEPTH = 40;

// http(s) anywhere, or a path on this site. javascript:, data:, vbscript: and friends never match.
export function safeLink(value) {
  if (typeof value !== "string") return null;
  const v = value.trim();
  if (!v || /[\u0000-\u001f\u007f]/.test(v)) return null;
  if (/^https?:\/\/[^\s]/i.test(v)) return v;
  if (v.startsWith("/") && !v.startsWith("//") && !v.startsWith("/\\")) return v;
  return null;
}

function parse(html) {
  return new DOMParser().parseFromString(String(html ?? ""), "text/html").body;
}

function copyInto(target, source, depth) {
  for (const node of source.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) {
      target.append(document.createTextNode(node.nodeValue));
      continue;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) continue;
    const tag = node.tagName.toUpperCase();
    if (DROPPED.has(tag)) continue;
    if (depth >= MAX_DEPTH) {
      target.append(document.createTextNode(node.textContent));
      continue;
    }
    const allowed = ALLOWED[tag];
    if (!allowed) {
      // Unknown element: keep what it says, lose what it is.
      if (BLOCKS.has(tag) && target.lastChild) target.append(document.createElement("br"));
      else if ((tag === "TD" || tag === "TH") && target.lastChild) target.append(document.createTextNode(" "));
      copyInto(target, node, depth + 1);
      continue;
    }
    if (tag === "A") {
      const href = safeLink(node.getAttribute("href"));
      if (!href) {
        copyInto(target, node, depth + 1);
        continue;
      }
      const a = document.createElement("a");
      a.setAttribute("href", href);
      a.setAttribute("target", "_blank");
      a.setAttribute("rel", "noopener noreferrer");
      copyInto(a, node, depth + 1);
      target.append(a);
      continue;
    }
    if (tag === "IMG") {
      const src = safeLink(node.getAttribute("src"));
      if (!src) {
        const alt = node.getAttribute("alt");
        if (alt) target.append(document.createTextNode(alt));
        continue;
      }
      const img = document.createElement("img");
      img.setAttribute("src", src);
      img.setAttribute("alt", node.getAttribute("alt") || "");
      img.setAttribute("loading", "lazy");
      img.setAttribute("referrerpolicy", "no-referrer");
      target.append(img);
      continue;
    }
    const clean = document.createElement(tag.toLowerCase());
    copyInto(clean, node, depth + 1);
    target.append(clean);
  }
}

/** A fragment of the current document holding only allow-listed elements and attributes. */
export function sanitizeHtml(html) {
  const fragment = document.createDocumentFragment();
  copyInto(fragment, parse(html), 0);
  return fragment;
}

/** The words of some HTML as plain text: blocks and <br> become line breaks, list items bullets. */
export function htmlToText(html) {
  const BREAK = "\u0001"; // a block boundary: several in a row make one line break
  const out = [];
  const walk = (node, listKind) => {
    let n = 0;
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        out.push(child.nodeValue.replace(/\s+/g, " "));
        continue;
      }
      if (child.nodeType !== Node.ELEMENT_NODE) continue;
      const tag = child.tagName.toUpperCase();
      if (DROPPED.has(tag)) continue;
      if (tag === "BR") {
        out.push("\n");
      } else if (tag === "IMG") {
        const alt = child.getAttribute("alt");
        if (alt) out.push(alt);
      } else if (tag === "LI") {
        n += 1;
        out.push(BREAK, listKind === "OL" ? `${n}. ` : "• ");
        walk(child, listKind);
        out.push(BREAK);
      } else if (tag === "TD" || tag === "TH") {
        out.push(" ");
        walk(child, listKind);
        out.push(" ");
      } else {
        const block = BLOCKS.has(tag);
        if (block) out.push(BREAK);
        walk(child, tag === "OL" || tag === "UL" ? tag : listKind);
        if (block) out.push(BREAK);
      }
    }
  };
  walk(parse(html), null);
  return out
    .join("")
    .replace(/[ \t\u00a0]*\u0001[\s\u0001]*/g, "\n")
    .split("\n")
    .map((line) => line.replace(/[ \t\u00a0]+/g, " ").trim())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
