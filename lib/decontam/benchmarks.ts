// Benchmark items as text: how each of the 12 math benchmarks MegaMath decontaminates against becomes one string
// (question + answer), and how users add their own JSONL files.
//
// MegaMath's downstream_datasets.py forms a {query, label} pair per task and indexes label n-grams plus n-grams that
// straddle query|label. The paper says "concatenate problem and solution", and a leaked *problem* alone (the common
// case on the web: a page quoting a test question) must be caught, so we index every n-gram of query + " " + label.
// That is a superset of MegaMath's n-grams. Per-task fields follow ../shared/data/decontamination/PROVENANCE.md;
// where we differ it is said next to the task.
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { decompress as zstdDecompress } from "fzstd";

export interface BenchmarkItem {
  /** The item's own id when the file has one, else its 0-based row number as a string. */
  id: string;
  /** One or more renderings of the item; the index holds the union of their n-grams. */
  texts: string[];
  /** The question part alone. When it has fewer than n tokens it is also indexed whole (see ngram-index.ts). */
  query?: string;
}

export interface Benchmark {
  name: string;
  /** Where the items came from (file name), recorded in the index header. */
  source: string;
  items: BenchmarkItem[];
}

type Row = Record<string, unknown>;

const str = (v: unknown): string => (v == null ? "" : typeof v === "string" ? v : String(v));
const join2 = (...parts: unknown[]): string => parts.map(str).filter((s) => s !== "").join(" ");

/** GSM8K calculator annotations such as <<16-3-4=9>>: web copies usually lack them, HF copies have them. */
const CALC = /<<[^<>]*>>/g;

interface BuiltinSpec {
  file: string;
  texts: (r: Row) => string[];
  query: (r: Row) => string;
}

/** The 12 benchmarks (file names as in MegaMath's decont_utils/data). */
export const BUILTIN_BENCHMARKS: Record<string, BuiltinSpec> = {
  // ASDiv: MegaMath uses body → answer and leaves out the question sentence; we keep it (a superset).
  asdiv: { file: "asdiv.jsonl.gz", query: (r) => join2(r.body, r.question), texts: (r) => [join2(r.body, r.question, r.answer)] },
  // GSM8K: question → cot + answer; indexed with and without the <<calc>> annotations.
  gsm8k: {
    file: "gsm8k.jsonl.gz", query: (r) => str(r.question),
    texts: (r) => {
      const withCalc = join2(r.question, r.cot, r.answer);
      const plain = join2(r.question, str(r.cot).replace(CALC, ""), r.answer);
      return plain === withCalc ? [plain] : [plain, withCalc];
    },
  },
  math: { file: "math.jsonl.gz", query: (r) => str(r.problem), texts: (r) => [join2(r.problem, r.solution)] },
  // MathQA: problem + options → rationale (MegaMath strips the rationale's surrounding quotes; punctuation is
  // dropped by the normalization anyway).
  mathqa: { file: "mathqa.jsonl.gz", query: (r) => str(r.problem), texts: (r) => [join2(r.problem, r.options, r.rationale)] },
  mawps: { file: "mawps.jsonl.gz", query: (r) => str(r.input), texts: (r) => [join2(r.input, r.target)] },
  mmlu_stem: {
    file: "mmlu_stem.jsonl.gz", query: (r) => str(r.question),
    texts: (r) => {
      const o = Array.isArray(r.options) ? r.options.map(str) : [];
      const letters = ["A", "B", "C", "D", "E", "F"];
      const opts = o.map((x, i) => `${letters[i] ?? i}: ${x}`).join(" ");
      return [join2(r.question, opts, `Answer: ${str(r.answer)}`)];
    },
  },
  ocw: { file: "ocw.jsonl.gz", query: (r) => str(r.problem), texts: (r) => [join2(r.problem, r.solution, r.answer)] },
  sat: { file: "sat.jsonl.gz", query: (r) => str(r.question), texts: (r) => [join2(r.question, r.options, r.Answer)] },
  svamp: { file: "svamp.jsonl.gz", query: (r) => join2(r.Body, r.Question), texts: (r) => [join2(r.Body, r.Question, r.Answer)] },
  aime24: { file: "aime24.jsonl.gz", query: (r) => str(r.problem), texts: (r) => [join2(r.problem, r.solution)] },
  aime25: { file: "aime25.jsonl.gz", query: (r) => str(r.problem), texts: (r) => [join2(r.problem, r.answer)] },
  amc: { file: "amc.jsonl.gz", query: (r) => str(r.problem), texts: (r) => [join2(r.problem, r.answer)] },
};

/** Read a JSONL file (.jsonl, .jsonl.gz, .jsonl.zst) into objects; bad lines are errors naming file and line. */
export function readJsonl(path: string): Row[] {
  let buf: Uint8Array = readFileSync(path);
  if (path.endsWith(".gz")) buf = gunzipSync(buf);
  else if (path.endsWith(".zst")) buf = zstdDecompress(buf);
  const text = new TextDecoder().decode(buf);
  const rows: Row[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    let v: unknown;
    try {
      v = parsePythonJson(line);
    } catch (e) {
      throw new Error(`${path}: line ${i + 1} is not valid JSON (${(e as Error).message})`);
    }
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error(`${path}: line ${i + 1} is not a JSON object`);
    rows.push(v as Row);
  }
  return rows;
}

/**
 * JSON.parse, also accepting the bare NaN / Infinity / -Infinity that Python's json module writes (MegaMath's
 * mmlu_stem.jsonl has `"options": [NaN, ...]`). They become the strings Python's str() would print ("nan", "inf").
 */
function parsePythonJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch (e) {
    if (!/NaN|Infinity/.test(line)) throw e;
    // Replace the bare tokens outside string literals only.
    let out = "";
    let inStr = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (inStr) {
        out += c;
        if (c === "\\") out += line[++i] ?? "";
        else if (c === '"') inStr = false;
        continue;
      }
      if (c === '"') inStr = true;
      const rest = line.startsWith("-Infinity", i) ? "-Infinity" : line.startsWith("Infinity", i) ? "Infinity"
        : line.startsWith("NaN", i) ? "NaN" : "";
      if (rest) {
        out += JSON.stringify(rest === "NaN" ? "nan" : rest === "Infinity" ? "inf" : "-inf");
        i += rest.length - 1;
        continue;
      }
      out += c;
    }
    return JSON.parse(out);
  }
}

function itemId(r: Row, row: number, idKey: string): string {
  const v = r[idKey];
  return v == null || v === "" ? String(row) : str(v);
}

/** Load the built-in benchmarks from a folder holding MegaMath's files (e.g. ../shared/data/decontamination). */
export function loadBuiltinBenchmarks(dir: string, names: string[] = Object.keys(BUILTIN_BENCHMARKS)): Benchmark[] {
  return names.map((name) => {
    const spec = BUILTIN_BENCHMARKS[name];
    if (!spec) throw new Error(`unknown benchmark "${name}"; known: ${Object.keys(BUILTIN_BENCHMARKS).join(", ")}`);
    const path = join(dir, spec.file);
    const rows = readJsonl(path);
    const items = rows.map((r, i) => ({ id: itemId(r, i, "id"), texts: spec.texts(r), query: spec.query(r) }));
    return { name, source: spec.file, items };
  });
}

export interface ExtraBenchmarkOptions {
  /** Fields joined (in order, space-separated) into the item text. Arrays are joined too. The first field is
   * the item's query (indexed whole when shorter than n tokens). */
  fields?: string[];
  idKey?: string;
}

/**
 * A user benchmark file: JSONL with the given text fields (default question, answer). The name is
 * `NAME=PATH`'s NAME, else the file name without .jsonl(.gz|.zst). A row with none of the fields is an error
 * naming the file and line, so a wrong --extra-fields never yields an empty, useless index.
 */
export function loadExtraBenchmark(spec: string, opts: ExtraBenchmarkOptions = {}): Benchmark {
  const eq = spec.indexOf("=");
  const path = eq > 0 ? spec.slice(eq + 1) : spec;
  const name = eq > 0 ? spec.slice(0, eq) : basename(path).replace(/\.jsonl(\.gz|\.zst)?$/, "");
  const fields = opts.fields?.length ? opts.fields : ["question", "answer"];
  const idKey = opts.idKey ?? "id";
  const rows = readJsonl(path);
  const items = rows.map((r, i) => {
    const present = fields.filter((f) => r[f] != null && r[f] !== "");
    if (!present.length) {
      throw new Error(`${path}: line ${i + 1} has none of the fields ${fields.join(", ")} (set --extra-fields)`);
    }
    const text = join2(...fields.map((f) => (Array.isArray(r[f]) ? (r[f] as unknown[]).map(str).join(" ") : r[f])));
    return { id: itemId(r, i, idKey), texts: [text], query: str(r[fields[0]]) };
  });
  return { name, source: basename(path), items };
}
