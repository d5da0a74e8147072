// The LLM prompts of the Pro-Max recipe as versioned constants, with how sure we are of each line.
// A prompt's identity (its sha256) goes into every request's cache key, so editing a prompt can never replay
// answers given to the old text. Users may supply their own prompt file; it must contain the placeholder once.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

export interface PromptTemplate {
  /** Short name, e.g. "finemath-5pt". */
  name: string;
  /** Human version label; the cache key uses `id` (name + content hash), not this label. */
  version: string;
  /** The full text; `placeholder` marks where the document goes. */
  template: string;
  placeholder: string;
  /** Where the text comes from and how exact each part is. */
  provenance: string;
}

/** The FineMath 5-point additive prompt (OctoThinker App. Fig. 15), as assembled in ../shared/spec/prompts.md §1c. */
export const FINEMATH_PROMPT: PromptTemplate = {
  name: "finemath-5pt",
  version: "1c-assembled",
  placeholder: "<EXAMPLE>",
  provenance: [
    "Lines 1-7 (instruction, blank line, five criteria): VERBATIM-FILE, HuggingFaceTB/finemath assets/prompt.txt",
    "  (commit 690f4f6); they match OctoThinker App. Fig. 15 word for word.",
    "Tail (QA note, 'The text extract:', 'After examining the extract:', two bullets): words agreed by two",
    "  PDF-derived witnesses (OctoThinker Fig. 15 conversion; SmolLM2 paper via marin exp939). Layout (blank lines,",
    "  placeholder on its own line) follows the FineWeb-Edu prompt.txt convention: ASSEMBLED, not read from the file.",
    "Placeholder <EXAMPLE>: FineWeb-Edu's token; FineMath's own token is unverified (OctoThinker prints \"<document>\").",
    "Source of this copy: ../shared/spec/prompts.md §1c.",
  ].join("\n"),
  template: [
    "Evaluate the following text extract for its potential usefulness for studying mathematics up to high school and early undergraduate levels. Use the following 5-point scoring system described below. Points are accumulated based on the satisfaction of each criterion:",
    "",
    "- Add 1 point if the extract contains some mathematical content, even if it's not very useful for studying, or if it contains non-academic content such as advertisements and generated pages for converting weight and currencies.",
    "- Add another point if the extract touches on mathematical topics, even if it's poorly written if it's too complex such as an academic paper that is too advanced.",
    "- Award a third point if the extract demonstrates problem solving or logical reasoning in a mathematical context, even if it lacks step-by-step explanations.",
    "- Grant a fourth point if the extract is at an appropriate level (up to high school and early undergraduate levels) and contains clear mathematical deductions and step-by-step solutions to mathematical problems. It should be similar to a chapter from a textbook or a tutorial.",
    "- Give a fifth point if the extract is outstanding in its educational value for teaching and studying mathematics in middle school and high school. It should include very detailed and easy to follow explanations.",
    "",
    "Question-answer formats (e.g., from educational websites or forums) are acceptable if they meet the criteria.",
    "",
    "The text extract:",
    "<EXAMPLE>",
    "",
    "After examining the extract:",
    "- Briefly justify your total score, up to 100 words.",
    "- Conclude with the score using the format: Final score: <total points>.",
  ].join("\n"),
};

/** The Pro-Max refinement prompt (OctoThinker App. Fig. 16), as assembled in ../shared/spec/prompts.md §3a. */
export const PROMAX_REFINE_PROMPT: PromptTemplate = {
  name: "promax-refine",
  version: "3a-assembled",
  placeholder: "<EXAMPLE>",
  provenance: [
    "Words and layout of the MegaMath-Web-Pro prompt (MegaMath arXiv 2504.02807 Fig. 9): PDF-TEXT (exact words;",
    "  soft wraps re-joined; blank lines read from line positions).",
    "Last bullet 'Refine multiple choice questions and answers if any.': OctoThinker App. Fig. 16, PDF-CONVERSION",
    "  (words reliable; three independent third-party copies agree). Fig. 16's own blank-line layout is unverified;",
    "  Fig. 9's is assumed: ASSEMBLED.",
    "Source of this copy: ../shared/spec/prompts.md §3a.",
  ].join("\n"),
  template: [
    "Task:",
    "- Carefully analyze the provided text to extract key facts, concrete details, important numbers, and core concepts.",
    "- Remove any irrelevant or noisy information, and reorganize the content into a logically structured, information-dense, and concise version that is easy to learn from. Output only the refined text.",
    "- Strive to maintain the original length as much as possible (avoid excessive shortening).",
    "- Refine multiple choice questions and answers if any.",
    "",
    "Text:",
    "<EXAMPLE>",
    "",
    "Just output the refined text, no other text.",
  ].join("\n"),
};

/** The MegaMath-Web-Pro refinement prompt (MegaMath Fig. 9; prompts.md §2, PDF-TEXT), for Web-Pro-style runs. */
export const WEBPRO_REFINE_PROMPT: PromptTemplate = {
  name: "webpro-refine",
  version: "2-pdf-text",
  placeholder: "<EXAMPLE>",
  provenance: "MegaMath arXiv 2504.02807v1 App. B.2 Fig. 9, read from the authors' PDF text layer (PDF-TEXT). " +
    "Source of this copy: ../shared/spec/prompts.md §2.",
  template: PROMAX_REFINE_PROMPT.template.replace("- Refine multiple choice questions and answers if any.\n", ""),
};

export const BUILTIN_PROMPTS: Record<string, PromptTemplate> = {
  finemath: FINEMATH_PROMPT,
  "promax-refine": PROMAX_REFINE_PROMPT,
  "webpro-refine": WEBPRO_REFINE_PROMPT,
};

/** Stable identity of a prompt: name@version#sha256(template)[0..12]. Any edit of the text changes it. */
export function promptId(p: PromptTemplate): string {
  const h = createHash("sha256").update(p.placeholder).update("\0").update(p.template).digest("hex").slice(0, 12);
  return `${p.name}@${p.version}#${h}`;
}

/**
 * Load a user prompt: a built-in name ("finemath", "promax-refine", "webpro-refine") or a path to a UTF-8 text file
 * holding the template verbatim (no trailing newline is added or removed). The placeholder must occur exactly once.
 */
export function loadPrompt(nameOrPath: string, placeholder = "<EXAMPLE>"): PromptTemplate {
  const builtin = BUILTIN_PROMPTS[nameOrPath];
  if (builtin) return builtin;
  let template: string;
  try {
    template = readFileSync(nameOrPath, "utf8");
  } catch (e) {
    throw new Error(`cannot read prompt file ${nameOrPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` +
      ` (built-in prompts: ${Object.keys(BUILTIN_PROMPTS).join(", ")})`);
  }
  const p: PromptTemplate = { name: `file:${nameOrPath}`, version: "user", template, placeholder,
    provenance: `user prompt file ${nameOrPath}` };
  checkPrompt(p);
  return p;
}

export function checkPrompt(p: PromptTemplate): void {
  const n = p.template.split(p.placeholder).length - 1;
  if (n !== 1) {
    throw new Error(`prompt ${p.name}: the placeholder ${p.placeholder} must occur exactly once, found ${n}`);
  }
}

/** How the document is fenced inside the prompt. "tags" puts it between <document> and </document> lines. */
export type DocumentFence = "tags" | "none";

const CLOSE_TAG = /<\s*\/\s*document\s*>/gi;
const OPEN_TAG = /<\s*document\s*>/gi;

// Llama-3 chat control tokens (<|begin_of_text|>, <|start_header_id|>, <|eot_id|>, <|reserved_special_token_N|>, …)
// and the generic <|…|> shape other chat templates use. A server that renders the chat template and then tokenizes
// with special tokens allowed (vLLM does) would turn such text inside a document into real turn boundaries: the
// document could end the user turn and write the assistant's answer. Inside documents they become "< |eot_id| >".
const CONTROL_TOKEN = /<\|([A-Za-z0-9_]{1,64})\|>/g;

/** Defuse chat control tokens in a document so that they reach the model as plain text. */
export function neutralizeControlTokens(doc: string): string {
  return doc.includes("<|") ? doc.replace(CONTROL_TOKEN, "< |$1| >") : doc;
}

/**
 * Put a document into a prompt. The document is inserted literally (no `$&`-style replacement patterns, no second
 * substitution of a placeholder the document itself contains). With fence "tags", any tag in the document that could
 * close or reopen the fence is defused, so the model always sees where the data ends. Chat control tokens in the
 * document are always defused (see neutralizeControlTokens), whatever the fence.
 */
export function renderPrompt(p: PromptTemplate, doc: string, fence: DocumentFence = "tags"): string {
  const at = p.template.indexOf(p.placeholder);
  if (at < 0) throw new Error(`prompt ${p.name}: placeholder ${p.placeholder} not found`);
  let body = neutralizeControlTokens(doc);
  if (fence === "tags") {
    body = "<document>\n" + body.replace(CLOSE_TAG, "< /document >").replace(OPEN_TAG, "< document >") + "\n</document>";
  }
  return p.template.slice(0, at) + body + p.template.slice(at + p.placeholder.length);
}

/**
 * Cut a document to at most `maxChars` UTF-16 code units, at the last whitespace in the final 10% when there is one
 * (so words are not split), never inside a surrogate pair. Returns the text and whether it was cut.
 */
export function truncateDoc(text: string, maxChars: number): { text: string; truncated: boolean } {
  if (maxChars <= 0 || text.length <= maxChars) return { text, truncated: false };
  let end = maxChars;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--; // do not keep half of a surrogate pair
  const floor = Math.floor(end * 0.9);
  for (let i = end; i > floor; i--) {
    const c = text.charCodeAt(i - 1);
    if (c === 32 || c === 10 || c === 9 || c === 13) {
      end = i - 1;
      break;
    }
  }
  return { text: text.slice(0, end), truncated: true };
}
