// The LLM flags through the real CLI: JSON --param values holding commas reach the server whole, and bad values
// are usage errors (exit 2) that name the flag, before any request is sent or any file written.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { main } from "../../cli/main.js";
import { writeDocuments } from "../../lib/io/index.js";
import { makeBatch } from "../../lib/arrow/batch.js";
import { tmpDir } from "../helpers.js";
import { startServer } from "./server.js";
import { realMathTexts } from "./util.js";

/** Capture what the CLI logs on stderr while `fn` runs. */
async function stderrOf(fn: () => Promise<number>): Promise<{ code: number; err: string }> {
  const write = process.stderr.write.bind(process.stderr);
  let err = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await fn(), err };
  } finally {
    process.stderr.write = write;
  }
}

async function mathParquet(dir: string, n: number): Promise<string> {
  const texts = realMathTexts(n);
  await writeDocuments(join(dir, "se"), [makeBatch({ id: texts.map((_, i) => `se/${i}`), text: texts })], { format: "parquet" });
  return join(dir, "se.parquet");
}

test("annotate --param with JSON values holding commas sends them whole", async () => {
  const dir = tmpDir();
  const input = await mathParquet(dir, 3);
  const srv = await startServer(() => ({ answer: "Final score: 4" }));
  try {
    const code = await main(["annotate", "-i", input, "-o", join(dir, "out"), "--base-url", srv.url, "--model", "m",
      "--param", 'stop=["\\n\\n","###"],seed=7', "--param", 'logit_bias={"128001":-100,"13":5}', "--quiet"]);
    assert.equal(code, 0);
    assert.equal(srv.requests.length, 3);
    for (const r of srv.requests) {
      assert.deepEqual(r.body.stop, ["\n\n", "###"]);
      assert.equal(r.body.seed, 7);
      assert.deepEqual(r.body.logit_bias, { "128001": -100, "13": 5 });
    }
  } finally {
    await srv.close();
  }
});

test("bad LLM flags exit 2 naming the flag, and write nothing", async () => {
  const dir = tmpDir();
  const input = await mathParquet(dir, 1);
  const cases: [string[], RegExp][] = [
    [["--base-url", "localhost:8000/v1"], /--base-url must be an http\(s\) URL including \/v1.*"localhost:8000\/v1"/],
    [["--base-url", "not a url"], /--base-url must be an http\(s\) URL/],
    [["--base-url", "ftp://host/v1"], /--base-url must be an http\(s\) URL/],
    [["--timeout-s", "0"], /--timeout-s (\(default: env MEGAMATH_LLM_TIMEOUT_S\) )?must be > 0/],
    [["--max-retries=-1"], /--max-retries must be >= 0/],
    [["--max-tokens", "0"], /--max-tokens must be >= 1/],
    [["--param", "model=other"], /--param model: not settable here \(use --model\)/],
    [["--param", "stream=true"], /--param stream: not settable here/],
    [["--param", "messages=[]"], /--param messages: not settable here/],
  ];
  for (const [flags, message] of cases) {
    for (const command of ["annotate", "refine"]) {
      const out = join(dir, `out-${command}`);
      const r = await stderrOf(() => main([command, "-i", input, "-o", out, "--model", "m", ...flags]));
      assert.equal(r.code, 2, `${command} ${flags.join(" ")}: ${r.err}`);
      assert.match(r.err, message);
      assert.equal(existsSync(out), false);
    }
  }
});

test("a rerun with other transport flags resumes finished files; another sampling flag redoes them", async () => {
  const dir = tmpDir();
  const input = await mathParquet(dir, 4);
  const srv = await startServer(() => ({ answer: "Final score: 2" }));
  const out = join(dir, "out");
  const run = (extra: string[]) => stderrOf(() => main(["annotate", "-i", input, "-o", out, "--base-url", srv.url, "--model", "m", ...extra]));
  try {
    const first = await run([]);
    assert.equal(first.code, 0, first.err);
    assert.match(first.err, /annotate: 1 file\(s\) done, 0 already done/);
    const transport = await run(["--max-in-flight", "3", "--timeout-s", "900", "--max-retries", "2", "--journal-dir", join(dir, "j")]);
    assert.equal(transport.code, 0, transport.err);
    assert.match(transport.err, /annotate: 0 file\(s\) done, 1 already done/);
    assert.equal(srv.requests.length, 4);
    const sampling = await run(["--temperature", "0.7"]);
    assert.equal(sampling.code, 0, sampling.err);
    assert.match(sampling.err, /annotate: 1 file\(s\) done, 0 already done/);
    assert.equal(srv.requests.length, 8); // a new request body: not in the journal
  } finally {
    await srv.close();
  }
});
