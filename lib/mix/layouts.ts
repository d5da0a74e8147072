// Does a document source's layout fit its template? Checked on the first file's schema before any tokenizing, so a
// released dataset whose columns differ from what the preset expects (MegaMath-QA's lone `text`, WildChat's
// `conversation`, MegaMath-Code's metadata-only files) stops with the columns it has and the template options that
// would read them, instead of failing mid-run on a missing column.
import { describeFile } from "../io/inspect.js";
import { DEFAULT_COLUMNS, type TemplateSpec } from "../tokenizer/templates.js";
import { MixSpecError, type MixSpec } from "./spec.js";
import { resolveSource } from "./sources.js";

/** The column sets a template can read from (any one of them suffices), as lib/tokenizer/templates.ts renders. */
export function templateColumnSets(t: TemplateSpec): string[][] {
  const c = { ...DEFAULT_COLUMNS, ...(t.columns ?? {}) };
  switch (t.name) {
    case "web": return [[c.text]];
    case "qa": return [[c.question, c.answer]];
    case "cot": return t.columns?.messages ? [t.columns.question ? [c.messages, c.question] : [c.messages]] : [[c.question, c.reasoning]];
    case "chat": return [[c.messages], [c.prompt, c.response]];
  }
}

// Column names real datasets use for each role (HF cards of MegaMath, OpenR1, NuminaMath, OpenMathInstruct-2,
// WildChat, UltraChat, AM-DeepSeek, DCLM, The Stack).
const TEXT = ["text", "content", "code", "markdown"];
const QUESTION = ["question", "problem", "prompt", "instruction", "input", "query"];
const ANSWER = ["answer", "solution", "generated_solution", "response", "output", "completion"];
const REASONING = ["reasoning", "answer", "solution", "generated_solution", "response", "output"];
const MESSAGES = ["messages", "conversation", "conversations", "dialog"];

/** Template specs that would read a file with these columns, most specific first. */
export function suggestTemplates(found: string[]): TemplateSpec[] {
  const has = new Set(found);
  const first = (names: string[], not?: string) => names.find((n) => has.has(n) && n !== not);
  const out: TemplateSpec[] = [];
  const msg = first(MESSAGES);
  const q = first(QUESTION);
  if (msg) {
    out.push({ name: "chat", columns: { messages: msg } });
    out.push({ name: "cot", columns: q ? { question: q, messages: msg } : { messages: msg } });
  }
  if (q) {
    const a = first(ANSWER, q);
    if (a) out.push({ name: "qa", columns: { question: q, answer: a } });
    const r = first(REASONING, q);
    if (r) out.push({ name: "cot", columns: { question: q, reasoning: r } });
  }
  if (has.has("prompt") && has.has("response")) out.push({ name: "chat", columns: { prompt: "prompt", response: "response" } });
  for (const t of TEXT) if (has.has(t)) out.push({ name: "web", columns: { text: t } });
  return out;
}

/** How a template is given on the command line (`megamath mix --source-template NAME=...`). */
export function templateFlag(source: string, t: TemplateSpec): string {
  return `--source-template ${source}='${templateJson(t)}'`;
}

/** A template as JSON, without an empty columns object. */
function templateJson(t: TemplateSpec): string {
  return JSON.stringify(t.columns && Object.keys(t.columns).length ? t : { name: t.name });
}

/** Throws a MixSpecError naming the columns found and the templates that would take them when `file` cannot be
 * read with `template`. `layout` is the preset's note on the released dataset (shown with the error). */
export async function checkSourceLayout(source: string, file: string, template: TemplateSpec, layout?: string): Promise<void> {
  const d = await describeFile(file, { rows: 1 });
  const found = d.schema.map((c) => c.name);
  const sets = templateColumnSets(template);
  if (sets.some((set) => set.every((col) => found.includes(col)))) return;
  const need = sets.map((s) => s.join(" + ")).join(" or ");
  const tips = suggestTemplates(found).map((t) => `  ${templateFlag(source, t)}`);
  throw new MixSpecError([
    `source "${source}": ${file} has columns ${found.join(", ") || "(none)"}; template ${templateJson(template)} needs ${need}.`,
    tips.length ? `Templates that would read these columns:\n${tips.join("\n")}` : "No template reads these columns: the file carries no document text.",
    ...(layout ? [`Released layout (preset note): ${layout}`] : []),
  ].join("\n"));
}

/** Check every document source of a mixture against its template before anything is tokenized. */
export async function checkMixLayouts(spec: MixSpec, paths: Record<string, string>): Promise<void> {
  for (const s of spec.sources) {
    const path = paths[s.name] ?? s.path;
    if (!path) continue;
    const r = await resolveSource(s.name, path);
    if (r.kind === "documents") await checkSourceLayout(s.name, r.files[0], s.template ?? { name: "web" }, spec.layouts?.[s.name]);
  }
}
