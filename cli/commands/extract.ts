import { defineCommand, UsageError, parseShard } from "../command.js";
import { pipelineOptions, requireInputOutput, workersFrom, optionsIdentity, summarize } from "../pipeline.js";
import { runPipeline } from "../../lib/runtime/runner.js";
import type { Stage } from "../../lib/runtime/stage.js";
import { warcReader } from "../../lib/extract/warc-source.js";
import { extractStage } from "../../lib/extract/stage.js";
import { loadUrlLists, urlFilterStage, type UrlFilterFiles } from "../../lib/extract/url-filter.js";

const { "text-key": _t, "id-key": _i, ...shared } = pipelineOptions;
const list = (v: unknown) => (v as string[] | undefined) ?? [];

export default defineCommand({
  name: "extract",
  summary: "Common Crawl WARC → documents with math-preserving text (URL filter, HTML → text with LaTeX).",
  usage: "extract --input 'CC-MAIN-*.warc.gz' --output DIR [--blocklist DIR] [--curated FILE] [--whitelist FILE] [--banned-words FILE]",
  details: [
    "Reads WARC files (record-wise gzip or plain), keeps `response` records, removes URLs on the given lists, and",
    "turns each HTML page into text whose formulas (MathML, KaTeX, MathJax 2/3, TeX image alts) are LaTeX in $…$",
    "or $$…$$. Output columns: text, id (WARC-Record-ID), url, warc_date, dump, content_type, charset, year.",
    "Removed rows are counted by reason (url-filter: blocklist:<category>, curated, banned_word, …; extract:",
    "http_status, not_html, binary_body, html_too_large, empty_text, …). Lists are local files (gzip allowed).",
  ].join("\n"),
  options: {
    ...shared,
    input: { ...pipelineOptions.input, description: "WARC files or globs (.warc, .warc.gz); repeatable." },
    dump: { type: "string", placeholder: "NAME", description: "Common Crawl dump name (default: CC-MAIN-YYYY-WW from the file path, else the warcinfo record)." },
    blocklist: { type: "list", placeholder: "DIR", description: "UT1-format blocklist folder (<category>/domains, <category>/urls, or <category>.domains.txt.gz); repeatable." },
    curated: { type: "list", placeholder: "FILE", description: "Domains / host/path prefixes removed as curated sources (MegaMath's urls/curated/domains)." },
    whitelist: { type: "list", placeholder: "FILE", description: "Domains that bypass the blocklists and word lists." },
    "banned-words": { type: "list", placeholder: "FILE", description: "Words that remove a URL containing them as a whole word." },
    "soft-banned-words": { type: "list", placeholder: "FILE", description: "Words of which --soft-threshold in one URL remove it." },
    "banned-subwords": { type: "list", placeholder: "FILE", description: "Strings that remove a URL containing them (after non-alphanumerics → space)." },
    "soft-threshold": { type: "integer", default: 2, description: "Soft-banned words needed to remove a URL (datatrove: 2)." },
    "max-html-mb": { type: "number", default: 8, description: "Remove pages with a larger payload (html_too_large)." },
    "page-timeout-ms": { type: "integer", default: 2000, description: "Stop walking one page after this long (text so far kept; counted as truncated_time)." },
    "keep-boilerplate": { type: "boolean", description: "Keep navigation, footers, menus and link lists." },
  },
  async run({ opts, ctx }) {
    const { inputs, output } = requireInputOutput(opts);
    const files: UrlFilterFiles = {
      blocklistDirs: list(opts.blocklist), curatedFiles: list(opts.curated), whitelistFiles: list(opts.whitelist),
      bannedWordFiles: list(opts["banned-words"]), softBannedWordFiles: list(opts["soft-banned-words"]),
      bannedSubwordFiles: list(opts["banned-subwords"]), softThreshold: opts["soft-threshold"] as number,
    };
    const maxMb = opts["max-html-mb"] as number;
    if (!(maxMb > 0)) throw new UsageError("--max-html-mb must be > 0");
    const stages: Stage[] = [];
    const anyList = Object.values(files).some((v) => Array.isArray(v) && v.length);
    if (anyList) {
      let lists;
      try {
        lists = await loadUrlLists(files);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      stages.push(urlFilterStage(lists, JSON.stringify(files)));
    }
    stages.push(extractStage({
      maxHtmlBytes: Math.round(maxMb * 1024 * 1024), maxMs: opts["page-timeout-ms"] as number,
      removeBoilerplate: !opts["keep-boilerplate"],
    }));
    const result = await runPipeline({
      name: "extract",
      identity: optionsIdentity("extract", opts),
      inputs,
      outDir: output,
      stages,
      reader: warcReader({ dump: opts.dump as string | undefined, maxRecordBytes: Math.max(64 * 1024 * 1024, Math.round(maxMb * 2 * 1024 * 1024)) }),
      shard: parseShard(opts.shard as string),
      force: Boolean(opts.force),
      seed: opts.seed as number,
      onError: opts["on-error"] as "fail" | "skip",
      workers: workersFrom(opts),
      write: {
        format: opts.format as "parquet" | "jsonl" | "jsonl.gz",
        rowGroupSize: opts["row-group-size"] as number,
        maxFileBytes: opts["max-file-mb"] === undefined ? undefined : Math.round((opts["max-file-mb"] as number) * 1e6),
      },
      log: ctx.log,
      progress: ctx.quiet || ctx.logJson ? false : { tty: ctx.tty },
    });
    ctx.log.info(summarize("extract", result));
    for (const f of result.filesFailed) ctx.log.warn(`file skipped: ${f.file}: ${f.error}`);
    const nothingDone = result.filesFailed.length > 0 && result.filesDone + result.filesSkipped === 0;
    return nothingDone ? 1 : 0;
  },
});
