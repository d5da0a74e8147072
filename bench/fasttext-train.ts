// fastText training at the MegaMath settings, ours against `fasttext supervised`, side by side: same training file,
// same flags, same thread count, runs alternated (native, ours, native, ours, ...), whole-process CPU-seconds
// (user + sys from GNU time: start-up, dictionary, matrix init, training and saving the .bin, for both tools), wall
// seconds, and held-out P@1 of both models by `fasttext test`.
//
//   node --import tsx bench/make-corpus.ts --size 233MB --doc-kb 4.45 --format jsonl --seed 1 --out /tmp/corpus
//   node --import tsx bench/fasttext-train.ts --corpus /tmp/corpus --train-docs 20000 --test-docs 4000 --threads 1,2
//
// Documents come from the make-corpus JSONL (the first train-docs for training, the next test-docs held out),
// labelled __label__math / __label__web by their `label` column, one line each with whitespace collapsed — as the
// peer runs in ../shared/research/peer-baselines.md (20,000 / 4,000 documents, same flags).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { trainSupervised } from "../classifiers/fasttext/train.js";

const { values: opt } = parseArgs({
  options: {
    corpus: { type: "string" },
    "train-docs": { type: "string", default: "20000" },
    "test-docs": { type: "string", default: "4000" },
    runs: { type: "string", default: "3" },
    threads: { type: "string", default: "1,2" },
    "child-train": { type: "string" },
    out: { type: "string" },
    thread: { type: "string" },
  },
});

const FLAGS = { dim: 256, bucket: 2_000_000, wordNgrams: 3, minCount: 3, epoch: 3, lr: 0.1 };

if (opt["child-train"]) {
  const m = await trainSupervised(opt["child-train"], { ...FLAGS, thread: Number(opt.thread) });
  await m.save(opt.out!);
  process.exit(0);
}

if (!opt.corpus) throw new Error("--corpus DIR (a make-corpus --format jsonl folder) is required");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const dir = mkdtempSync(join(tmpdir(), "bench-ft-train-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

const nTrain = Number(opt["train-docs"]);
const nTest = Number(opt["test-docs"]);
const train: string[] = [];
const test: string[] = [];
outer: for (const f of readdirSync(opt.corpus).filter((f) => f.endsWith(".jsonl")).sort()) {
  for (const line of readFileSync(join(opt.corpus, f), "utf8").split("\n")) {
    if (!line) continue;
    const r = JSON.parse(line) as { text: string; label: number };
    const l = `${r.label === 1 ? "__label__math" : "__label__web"} ${r.text.replace(/\s+/g, " ").trim()}`;
    if (train.length < nTrain) train.push(l);
    else if (test.length < nTest) test.push(l);
    else break outer;
  }
}
const trainFile = join(dir, "train.txt");
const testFile = join(dir, "test.txt");
writeFileSync(trainFile, train.join("\n") + "\n");
writeFileSync(testFile, test.join("\n") + "\n");
const mb = Buffer.byteLength(train.join("\n")) / 1e6;
console.log(`train ${train.length} docs (${mb.toFixed(1)} MB), test ${test.length} docs; flags ${JSON.stringify(FLAGS)}`);

function timed(cmd: string[]): { wall: number; cpu: number; rssKb: number } {
  const r = spawnSync("/usr/bin/time", ["-f", "%e %U %S %M", ...cmd], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr}`);
  const [wall, user, sys, rss] = r.stderr.trim().split("\n").pop()!.split(" ").map(Number);
  return { wall: wall!, cpu: user! + sys!, rssKb: rss! };
}
const p1 = (model: string) => {
  const r = spawnSync("fasttext", ["test", model, testFile], { encoding: "utf8" });
  return /P@1\s+([\d.]+)/.exec(r.stdout)?.[1] ?? "?";
};

for (const threads of opt.threads!.split(",").map(Number)) {
  const nat: ReturnType<typeof timed>[] = [];
  const ours: ReturnType<typeof timed>[] = [];
  const natOut = join(dir, `native-${threads}`);
  const ourOut = join(dir, `ours-${threads}.bin`);
  for (let r = 0; r < Number(opt.runs); r++) {
    const args = Object.entries(FLAGS).flatMap(([k, v]) => [`-${k}`, String(v)]);
    nat.push(timed(["fasttext", "supervised", "-input", trainFile, "-output", natOut, "-verbose", "0", ...args, "-thread", String(threads)]));
    ours.push(timed(["node", "--import", "tsx", "bench/fasttext-train.ts", "--child-train", trainFile, "--out", ourOut, "--thread", String(threads)]));
    console.log(`  run ${r + 1}, ${threads} thread(s): native ${nat[r]!.cpu.toFixed(1)} CPU-s ${nat[r]!.wall.toFixed(1)} s wall; ours ${ours[r]!.cpu.toFixed(1)} CPU-s ${ours[r]!.wall.toFixed(1)} s wall`);
  }
  const nc = median(nat.map((x) => x.cpu)), oc = median(ours.map((x) => x.cpu));
  const nw = median(nat.map((x) => x.wall)), ow = median(ours.map((x) => x.wall));
  console.log(`${threads} thread(s), median of ${opt.runs}: native ${nc.toFixed(1)} CPU-s / ${nw.toFixed(1)} s wall / ${(Math.max(...nat.map((x) => x.rssKb)) / 1024).toFixed(0)} MiB; ` +
    `ours ${oc.toFixed(1)} CPU-s / ${ow.toFixed(1)} s wall / ${(Math.max(...ours.map((x) => x.rssKb)) / 1024).toFixed(0)} MiB`);
  console.log(`  ours/native CPU ${(oc / nc).toFixed(2)}x, wall ${(ow / nw).toFixed(2)}x; held-out P@1 native ${p1(`${natOut}.bin`)}, ours ${p1(ourOut)}`);
}
