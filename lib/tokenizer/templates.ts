// Templates turn a record into the training text of one document, per source type (OctoThinker §3.1, recipe.md §3.1):
//  - web:  the text column as is;
//  - qa:   "Question: {q}\nAnswer: {a}" (the paper does not publish its QA template; this is MegaMath-QA's own
//          Question:/Answer: layout, a project decision);
//  - cot:  OpenR1 style, question + "\n" + "<think>\n{reasoning}\n</think>" (+ "\n{answer}" when an answer column is
//          given), joined with line breaks. With a `messages` column named, the reasoning is the first assistant turn
//          of that conversation (kept as is when it already starts with <think>, as OpenR1-Math-220k's and
//          AM-DeepSeek-R1-Distilled's do) and the question is the `question` column if one is named, else the first
//          user turn;
//  - chat: "User:{u}\nAssistant:{a}", turns joined with "\n" (multi-turn), from a messages list column
//          (role/content or ShareGPT from/value; an Arrow List<Struct> column as Parquet chat datasets store it, or a
//          JSON string of it) or from prompt/response columns.
// Column names are configurable. A row a template cannot render is reported with its reason, never dropped silently.
import { type Batch, getStrings, hasColumn, ColumnError } from "../arrow/batch.js";

export const TEMPLATE_NAMES = ["web", "qa", "cot", "chat"] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

export interface TemplateColumns {
  text?: string;
  question?: string;
  answer?: string;
  reasoning?: string;
  messages?: string;
  prompt?: string;
  response?: string;
}

export interface TemplateSpec {
  name: TemplateName;
  columns?: TemplateColumns;
}

/** Rendered texts (null for a row that failed) and the failures with their reasons. */
export interface Rendered {
  texts: (string | null)[];
  failures: { row: number; reason: string; message: string }[];
}

export const DEFAULT_COLUMNS: Required<TemplateColumns> = {
  text: "text", question: "question", answer: "answer", reasoning: "reasoning", messages: "messages",
  prompt: "prompt", response: "response",
};

export function parseTemplateName(s: string): TemplateName {
  if ((TEMPLATE_NAMES as readonly string[]).includes(s)) return s as TemplateName;
  throw new Error(`unknown template "${s}": use one of ${TEMPLATE_NAMES.join(", ")}`);
}

/** Render every row of a batch with a template. Missing columns throw ColumnError (the whole file is wrong). */
export function renderBatch(batch: Batch, spec: TemplateSpec): Rendered {
  const c = { ...DEFAULT_COLUMNS, ...(spec.columns ?? {}) };
  const n = batch.numRows;
  const texts: (string | null)[] = new Array(n);
  const failures: Rendered["failures"] = [];
  const fail = (row: number, reason: string, message: string) => {
    texts[row] = null;
    failures.push({ row, reason, message });
  };
  switch (spec.name) {
    case "web": {
      const t = getStrings(batch, c.text);
      for (let i = 0; i < n; i++) texts[i] = t[i] ?? "";
      break;
    }
    case "qa": {
      const q = getStrings(batch, c.question);
      const a = getStrings(batch, c.answer);
      for (let i = 0; i < n; i++) {
        if (!q[i]) fail(i, "template_missing_question", `empty "${c.question}"`);
        else if (!a[i]) fail(i, "template_missing_answer", `empty "${c.answer}"`);
        else texts[i] = `Question: ${q[i]}\nAnswer: ${a[i]}`;
      }
      break;
    }
    case "cot": {
      if (spec.columns?.messages) {
        renderCotFromMessages(batch, c, Boolean(spec.columns.question), texts, fail);
        break;
      }
      const q = getStrings(batch, c.question);
      const r = getStrings(batch, c.reasoning);
      const a = spec.columns?.answer && hasColumn(batch, c.answer) ? getStrings(batch, c.answer) : null;
      for (let i = 0; i < n; i++) {
        if (!q[i]) fail(i, "template_missing_question", `empty "${c.question}"`);
        else if (!r[i]) fail(i, "template_missing_reasoning", `empty "${c.reasoning}"`);
        else {
          texts[i] = `${q[i]}\n${wrapReasoning(r[i]!)}` + (a && a[i] ? `\n${a[i]}` : "");
        }
      }
      break;
    }
    case "chat":
      renderChat(batch, c, texts, fail);
      break;
  }
  return { texts, failures };
}

type Turn = { role: string; content: string };

/** "<think>\n{r}\n</think>" unless the reasoning already carries its think tags. */
function wrapReasoning(r: string): string {
  return r.trimStart().startsWith("<think>") ? r : `<think>\n${r}\n</think>`;
}

function renderCotFromMessages(batch: Batch, c: Required<TemplateColumns>, questionColumn: boolean,
  texts: (string | null)[], fail: (row: number, reason: string, message: string) => void): void {
  if (!hasColumn(batch, c.messages)) throw new ColumnError(`cot template needs the "${c.messages}" column`);
  const col = batch.getChild(c.messages)!;
  const q = questionColumn ? getStrings(batch, c.question) : null;
  for (let i = 0; i < batch.numRows; i++) {
    let turns: Turn[];
    try {
      turns = toTurns(col.get(i));
    } catch (e) {
      fail(i, "template_bad_messages", (e as Error).message);
      continue;
    }
    const role = (t: Turn) => ROLE_LABEL[t.role.toLowerCase()];
    const question = q ? q[i] : turns.find((t) => role(t) === "User")?.content;
    const reasoning = turns.find((t) => role(t) === "Assistant")?.content;
    if (!question) fail(i, "template_missing_question", q ? `empty "${c.question}"` : `no user turn in "${c.messages}"`);
    else if (!reasoning) fail(i, "template_missing_reasoning", `no assistant turn in "${c.messages}"`);
    else texts[i] = `${question}\n${wrapReasoning(reasoning)}`;
  }
}

function renderChat(batch: Batch, c: Required<TemplateColumns>, texts: (string | null)[],
  fail: (row: number, reason: string, message: string) => void): void {
  const n = batch.numRows;
  if (hasColumn(batch, c.messages)) {
    const col = batch.getChild(c.messages)!;
    for (let i = 0; i < n; i++) {
      try {
        const turns = toTurns(col.get(i));
        texts[i] = formatTurns(turns);
      } catch (e) {
        fail(i, "template_bad_messages", (e as Error).message);
      }
    }
    return;
  }
  if (!hasColumn(batch, c.prompt)) {
    throw new ColumnError(`chat template needs a "${c.messages}" column or "${c.prompt}"/"${c.response}" columns`);
  }
  const p = getStrings(batch, c.prompt);
  const r = getStrings(batch, c.response);
  for (let i = 0; i < n; i++) {
    if (!p[i]) fail(i, "template_missing_prompt", `empty "${c.prompt}"`);
    else if (!r[i]) fail(i, "template_missing_response", `empty "${c.response}"`);
    else texts[i] = `User:${p[i]}\nAssistant:${r[i]}`;
  }
}

function toTurns(v: unknown): Turn[] {
  let value = v;
  if (typeof value === "string") value = JSON.parse(value);
  if (value && typeof value === "object" && "toJSON" in value) value = (value as { toJSON(): unknown }).toJSON();
  if (!Array.isArray(value) || value.length === 0) throw new Error("messages is not a non-empty list");
  return value.map((m, k) => {
    const o = (m && typeof m === "object" && "toJSON" in m ? (m as { toJSON(): unknown }).toJSON() : m) as Record<string, unknown>;
    const role = String(o?.role ?? o?.from ?? "");
    const content = o?.content ?? o?.value;
    if (typeof content !== "string") throw new Error(`message ${k} has no string content`);
    return { role, content };
  });
}

const ROLE_LABEL: Record<string, string> = {
  user: "User", human: "User", assistant: "Assistant", gpt: "Assistant", system: "System",
};

/** "User:{}\nAssistant:{}" per turn pair, joined with "\n". A system turn becomes a "System:{}" line. */
export function formatTurns(turns: Turn[]): string {
  const lines: string[] = [];
  let sawAssistant = false;
  for (const [k, t] of turns.entries()) {
    const label = ROLE_LABEL[t.role.toLowerCase()];
    if (!label) throw new Error(`message ${k} has unknown role "${t.role}"`);
    if (label === "Assistant") sawAssistant = true;
    lines.push(`${label}:${t.content}`);
  }
  if (!sawAssistant) throw new Error("conversation has no assistant turn");
  return lines.join("\n");
}
