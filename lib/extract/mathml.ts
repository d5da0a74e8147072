// MathML → LaTeX for the common Presentation MathML elements, used when a <math> element carries neither a TeX
// annotation nor alttext (MathJax 3 assistive MathML, KaTeX without annotation, hand-written MathML). Bounded:
// depth and node count are capped, so malformed or hostile MathML yields a partial formula, never a stack overflow.
import type { El as Element, Node as ChildNode } from "./dom.js";

const SYMBOLS: Record<string, string> = {
  α: "\\alpha", β: "\\beta", γ: "\\gamma", δ: "\\delta", ε: "\\epsilon", ϵ: "\\epsilon", ζ: "\\zeta", η: "\\eta",
  θ: "\\theta", ϑ: "\\vartheta", ι: "\\iota", κ: "\\kappa", λ: "\\lambda", μ: "\\mu", ν: "\\nu", ξ: "\\xi", π: "\\pi",
  ρ: "\\rho", σ: "\\sigma", τ: "\\tau", υ: "\\upsilon", φ: "\\phi", ϕ: "\\phi", χ: "\\chi", ψ: "\\psi", ω: "\\omega",
  Γ: "\\Gamma", Δ: "\\Delta", Θ: "\\Theta", Λ: "\\Lambda", Ξ: "\\Xi", Π: "\\Pi", Σ: "\\Sigma", Φ: "\\Phi", Ψ: "\\Psi",
  Ω: "\\Omega", "×": "\\times", "÷": "\\div", "·": "\\cdot", "⋅": "\\cdot", "−": "-", "±": "\\pm", "∓": "\\mp",
  "≤": "\\leq", "≥": "\\geq", "≠": "\\neq", "≈": "\\approx", "≡": "\\equiv", "∼": "\\sim", "≅": "\\cong", "∝": "\\propto",
  "∞": "\\infty", "∑": "\\sum", "∏": "\\prod", "∫": "\\int", "∮": "\\oint", "∂": "\\partial", "∇": "\\nabla",
  "∈": "\\in", "∉": "\\notin", "⊂": "\\subset", "⊆": "\\subseteq", "⊃": "\\supset", "⊇": "\\supseteq", "∪": "\\cup",
  "∩": "\\cap", "∅": "\\emptyset", "∀": "\\forall", "∃": "\\exists", "¬": "\\neg", "∧": "\\wedge", "∨": "\\vee",
  "→": "\\to", "←": "\\leftarrow", "↔": "\\leftrightarrow", "⇒": "\\Rightarrow", "⇐": "\\Leftarrow", "⇔": "\\Leftrightarrow",
  "↦": "\\mapsto", "…": "\\ldots", "⋯": "\\cdots", "⋮": "\\vdots", "⋱": "\\ddots", "∘": "\\circ", "⊗": "\\otimes",
  "⊕": "\\oplus", "†": "\\dagger", "ℝ": "\\mathbb{R}", "ℕ": "\\mathbb{N}", "ℤ": "\\mathbb{Z}", "ℚ": "\\mathbb{Q}",
  "ℂ": "\\mathbb{C}", "ℓ": "\\ell", "ℏ": "\\hbar", "′": "'", "″": "''", "⟨": "\\langle", "⟩": "\\rangle", "∣": "|", "⟹": "\\implies", "⟸": "\\impliedby", "⟺": "\\iff",
  "‖": "\\|", "⌊": "\\lfloor", "⌋": "\\rfloor", "⌈": "\\lceil", "⌉": "\\rceil", "°": "^\\circ", "⁡": "", "⁢": "", "⁣": ",", "⁤": "+",
  "{": "\\{", "}": "\\}", "%": "\\%", "#": "\\#", "&": "\\&",
};
const FUNCTIONS = new Set(["sin", "cos", "tan", "cot", "sec", "csc", "log", "ln", "exp", "lim", "max", "min", "sup", "inf",
  "det", "dim", "ker", "deg", "gcd", "arg", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan", "Pr", "liminf", "limsup"]);
const ACCENTS: Record<string, string> = { "^": "\\hat", "ˆ": "\\hat", "¯": "\\bar", "‾": "\\overline", "→": "\\vec", "⃗": "\\vec",
  "―": "\\overline", "~": "\\tilde", "˜": "\\tilde", "˙": "\\dot", "¨": "\\ddot", "⏞": "\\overbrace", "⏟": "\\underbrace", "_": "\\underline" };

export interface MathBudget {
  nodes: number;
}

const MAX_DEPTH = 200;

/** Unicode math characters as TeX (α → \\alpha, ≤ → \\leq, − → -), joined so control words stay apart. */
export function symbols(s: string): string {
  let out = "";
  for (const ch of s.replace(/=\u0338/g, "≠").replace(/\u0338/g, "")) {
    const m = SYMBOLS[ch];
    out = join(out, m ?? ch);
  }
  return out;
}

/** Concatenate two LaTeX fragments, adding a space where a control word would run into a letter. */
export function join(a: string, b: string): string {
  if (!a) return b;
  if (!b) return a;
  if (/\\[A-Za-z]+$/.test(a) && /^[A-Za-z]/.test(b)) return a + " " + b;
  return a + b;
}

function group(s: string): string {
  return s.length === 1 || /^\\[A-Za-z]+$/.test(s) ? s : `{${s}}`;
}

function elementChildren(e: Element): Element[] {
  return e.children.filter((c): c is Element => c.type === "tag");
}

function textOf(n: ChildNode, budget: MathBudget): string {
  if (--budget.nodes < 0) return "";
  if (n.type === "text") return n.data;
  if (n.type === "tag") return n.children.map((c) => textOf(c, budget)).join("");
  return "";
}

function localName(e: Element): string {
  const n = e.name.toLowerCase();
  const c = n.indexOf(":");
  return c >= 0 ? n.slice(c + 1) : n;
}

/** LaTeX for a <math> element (or any MathML element). */
export function mathmlToLatex(e: Element, budget: MathBudget = { nodes: 20000 }): string {
  return convert(e, budget, 0).trim();
}

function convert(e: Element, budget: MathBudget, depth: number): string {
  if (--budget.nodes < 0 || depth > MAX_DEPTH) return "";
  const kids = elementChildren(e);
  const c = (i: number) => (kids[i] ? convert(kids[i], budget, depth + 1) : "");
  const row = () => kids.reduce((acc, k) => join(acc, convert(k, budget, depth + 1)), "");
  // A script's base: a number or a \left…\right group takes no braces (17^5, \left(…\right)^2, as written).
  const base = (i: number) => (kids[i] && (localName(kids[i]) === "mn" || fencedRow(kids[i])) ? c(i) : group(c(i)));
  switch (localName(e)) {
    case "mi": {
      const t = textOf(e, budget).trim();
      if (FUNCTIONS.has(t)) return `\\${t}`;
      if ([...t].length > 1) return `\\mathrm{${t}}`;
      const v = e.attribs.mathvariant;
      const s = symbols(t);
      if (v === "double-struck" && /^[A-Z]$/.test(t)) return `\\mathbb{${t}}`;
      if (v === "bold") return `\\mathbf{${s}}`;
      if (v === "fraktur") return `\\mathfrak{${s}}`;
      if (v === "script") return `\\mathcal{${s}}`;
      return s;
    }
    case "mn":
      return textOf(e, budget).trim();
    case "mo": {
      const t = textOf(e, budget).trim();
      if (FUNCTIONS.has(t)) return `\\${t}`;
      return symbols(t);
    }
    case "mtext": {
      const t = textOf(e, budget);
      return t.trim() ? `\\text{${t}}` : "\\ ";
    }
    case "ms":
      return `\\text{"${textOf(e, budget)}"}`;
    case "mspace":
      return " ";
    case "msup":
      return `${base(0)}^${group(c(1))}`;
    case "msub":
      return `${base(0)}_${group(c(1))}`;
    case "msubsup":
      return `${base(0)}_${group(c(1))}^${group(c(2))}`;
    case "mfrac":
      return e.attribs.linethickness === "0" || e.attribs.linethickness === "0px"
        ? `\\genfrac{}{}{0pt}{}{${c(0)}}{${c(1)}}` : `\\frac{${c(0)}}{${c(1)}}`;
    case "msqrt":
      return `\\sqrt{${row()}}`;
    case "mroot":
      return `\\sqrt[${c(1)}]{${c(0)}}`;
    case "mover": {
      const acc = kids[1] ? textOf(kids[1], budget).trim() : "";
      if (ACCENTS[acc]) return `${ACCENTS[acc]}{${c(0)}}`;
      const base = c(0);
      return /^\\(sum|prod|lim|int|bigcup|bigcap)/.test(base) ? `${base}^${group(c(1))}` : `\\overset{${c(1)}}{${base}}`;
    }
    case "munder": {
      const acc = kids[1] ? textOf(kids[1], budget).trim() : "";
      if (acc === "_" || acc === "‾" || acc === "¯") return `\\underline{${c(0)}}`;
      if (acc === "⏟") return `\\underbrace{${c(0)}}`;
      const base = c(0);
      return /^\\(sum|prod|lim|max|min|sup|inf|bigcup|bigcap|int)/.test(base) || FUNCTIONS.has(base.slice(1))
        ? `${base}_${group(c(1))}` : `\\underset{${c(1)}}{${base}}`;
    }
    case "munderover":
      return `${c(0)}_${group(c(1))}^${group(c(2))}`;
    case "mfenced": {
      const open = e.attribs.open ?? "(";
      const close = e.attribs.close ?? ")";
      const sep = e.attribs.separators ?? ",";
      const inner = kids.map((k) => convert(k, budget, depth + 1)).join(sep.trim()[0] ?? ",");
      return `\\left${fence(open)}${inner}\\right${fence(close)}`;
    }
    case "menclose":
      return (e.attribs.notation ?? "").includes("box") ? `\\boxed{${row()}}` : row();
    case "mtable": {
      const rows = kids.map((r) => elementChildren(r).map((cell) => convert(cell, budget, depth + 2)).join(" & "));
      return `\\begin{matrix}${rows.join(" \\\\ ")}\\end{matrix}`;
    }
    case "mtr":
    case "mlabeledtr":
      return kids.map((k) => convert(k, budget, depth + 1)).join(" & ");
    case "semantics": {
      // Prefer a TeX annotation when it is there; the presentation MathML is the first child otherwise.
      for (const k of kids) {
        if (localName(k) === "annotation" && isTexEncoding(k.attribs.encoding)) return textOf(k, budget).trim();
      }
      return kids[0] && localName(kids[0]) !== "annotation" && localName(kids[0]) !== "annotation-xml" ? c(0) : "";
    }
    case "annotation":
    case "annotation-xml":
    case "none":
    case "mprescripts":
    case "mphantom":
      return "";
    case "mmultiscripts": {
      // base, then (sub, sup) pairs; prescripts are rare and dropped.
      let out = group(c(0));
      for (let i = 1; i + 1 < kids.length && localName(kids[i]) !== "mprescripts"; i += 2) {
        const sub = c(i);
        const sup = c(i + 1);
        if (sub) out += `_${group(sub)}`;
        if (sup) out += `^${group(sup)}`;
      }
      return out;
    }
    case "mstyle": {
      // \dfrac / \tfrac: a fraction forced to display or text style (KaTeX and MathJax write them so).
      const ds = e.attribs.displaystyle;
      if (ds && kids.length === 1 && localName(kids[0]) === "mfrac") return c(0).replace(/^\\frac/, ds === "true" ? "\\dfrac" : "\\tfrac");
      return row();
    }
    default: {
      // \left…\right: a row opened and closed by fences (KaTeX marks them fence="true", MathJax OPEN/CLOSE).
      if (fencedRow(e)) {
        const inner = kids.slice(1, -1).reduce((acc, k) => join(acc, convert(k, budget, depth + 1)), "");
        return `\\left${fence(textOf(kids[0], budget).trim())}${inner}\\right${fence(textOf(kids[kids.length - 1], budget).trim())}`;
      }
      // math, mrow, mpadded, merror, mtd, maction and anything unknown: the children in order.
      return row();
    }
  }
}

function fencedRow(e: Element): boolean {
  if (localName(e) !== "mrow") return false;
  const kids = elementChildren(e);
  const isFence = (k: Element | undefined, side: string) =>
    k !== undefined && localName(k) === "mo" && (k.attribs.fence === "true" || k.attribs["data-mjx-texclass"] === side);
  return kids.length >= 2 && isFence(kids[0], "OPEN") && isFence(kids[kids.length - 1], "CLOSE");
}

function fence(s: string): string {
  if (!s) return ".";
  if (s === "{") return "\\{";
  if (s === "}") return "\\}";
  return SYMBOLS[s] ?? s;
}

export function isTexEncoding(enc: string | undefined): boolean {
  if (!enc) return false;
  const e = enc.toLowerCase();
  return e === "application/x-tex" || e === "tex" || e === "latex" || e === "application/x-latex" || e === "text/x-tex";
}

/** Remove the {\displaystyle …} / {\textstyle …} wrapper MediaWiki and others put around the whole formula. */
export function stripStyleWrapper(tex: string): string {
  const t = tex.trim();
  const m = /^\{\\(displaystyle|textstyle|scriptstyle)\s*([\s\S]*)\}$/.exec(t);
  if (m && balanced(m[2])) return m[2].trim();
  const n = /^\\(displaystyle|textstyle)\s+([\s\S]*)$/.exec(t);
  return n ? n[2].trim() : t;
}

function balanced(s: string): boolean {
  let d = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === "\\") {
      i++;
      continue;
    }
    if (ch === "{") d++;
    else if (ch === "}" && --d < 0) return false;
  }
  return d === 0;
}
