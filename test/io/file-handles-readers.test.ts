// The line and Arrow readers outside lib/io close their file when they stop early: a corrupt or torn request journal,
// a caller that stops reading labelled lines, a corrupt Arrow file given to inspect. Checked through /proc/self/fd.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tableToIPC, tableFromArrays } from "apache-arrow";
import { RequestJournal } from "../../lib/llm/journal.js";
import { readLabelledLines } from "../../lib/classify/training-data.js";
import { describeFile } from "../../lib/io/inspect.js";
import { fdsOn, noProcFds, tmpDir } from "../helpers.js";

const line = (k: string) => JSON.stringify({ k, text: `answer ${k}`, finish: "stop", pt: 3, ct: 4 }) + "\n";

test("request journal: a corrupt line fails the open and leaves no file open", { skip: noProcFds }, async () => {
  const dir = tmpDir("megamath-fd-journal-");
  const path = join(dir, "journal.jsonl");
  writeFileSync(path, line("a") + "{not json\n" + line("b").repeat(2000));
  await assert.rejects(RequestJournal.open(path), /line 2 is corrupt/);
  assert.equal(fdsOn(path), 0);
});

test("request journal: a torn tail is cut and only the append handle stays open", { skip: noProcFds }, async () => {
  const dir = tmpDir("megamath-fd-journal-");
  const path = join(dir, "journal.jsonl");
  const body = Array.from({ length: 3000 }, (_, i) => line(`k${i}`)).join("");
  writeFileSync(path, body + line("torn").slice(0, 20));
  const j = await RequestJournal.open(path);
  assert.equal(j.size, 3000);
  assert.ok(j.repairedBytes > 0);
  assert.equal(fdsOn(path), 1, "the reading stream must be closed; only the append handle remains");
  await j.close();
  assert.equal(fdsOn(path), 0);
  assert.equal(readFileSync(path, "utf8"), body);
});

test("readLabelledLines: stopping early closes the file", { skip: noProcFds }, async () => {
  const dir = tmpDir("megamath-fd-labelled-");
  const path = join(dir, "valid.txt");
  writeFileSync(path, "__label__math x y z\n".repeat(50_000));
  let n = 0;
  for await (const _ of readLabelledLines(path)) if (++n === 3) break;
  assert.equal(fdsOn(path), 0);
});

test("inspect: a corrupt Arrow file is an error and leaves no file open", { skip: noProcFds }, async () => {
  const dir = tmpDir("megamath-fd-inspect-");
  const path = join(dir, "bad.arrow");
  const ipc = tableToIPC(tableFromArrays({ text: Array.from({ length: 5000 }, (_, i) => `document ${i} `.repeat(20)) }), "stream");
  const bad = Buffer.from(ipc);
  bad.fill(0xff, 8, 200); // break the schema message: the reader gives up with the rest of the file unread
  writeFileSync(path, bad);
  await assert.rejects(describeFile(path), /Schema/);
  assert.equal(fdsOn(path), 0);
});
