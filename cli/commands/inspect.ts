import { defineCommand, UsageError } from "../command.js";

// Token files (Megatron .bin/.idx, datatrove .ds) and document files (Parquet, JSONL, Arrow) have their own
// describers; both are loaded lazily so inspecting one kind does not load the other's dependencies. A folder of token
// shards (the output of `megamath tokenize`) or its manifest.json is described shard by shard.
const TOKEN_FILE = /\.(bin|idx|ds|ds\.index|ds\.metadata)$|.\.manifest\.json$/i;

export default defineCommand({
  name: "inspect",
  usage: "inspect FILE|DIR [--rows N] [--json]",
  details: [
    "FILE: Parquet, JSONL(.gz/.zst) or Arrow (schema, rows); a token file NAME.bin/.idx/.ds/.manifest.json (counts, length",
    "histogram, decoded samples). DIR: a folder of documents, or a token folder from 'megamath tokenize' (also",
    "DIR/manifest.json): every shard on disk with its counts, and whether manifest.json lists them all.",
  ].join("\n"),
  positionals: 1,
  options: {
    rows: { type: "integer", default: 5, description: "Rows (or token documents) to show." },
    json: { type: "boolean", description: "Print the description as JSON." },
  },
  async run({ positionals, opts, ctx }) {
    if (positionals.length !== 1) throw new UsageError("usage: megamath inspect FILE");
    const file = positionals[0];
    const rows = opts.rows;
    const { tokenFolderOf } = await import("../../lib/tokens/inspect-folder.js");
    const folder = tokenFolderOf(file);
    if (folder !== null) {
      const { describeTokenFolder, formatTokenFolder } = await import("../../lib/tokens/inspect-folder.js");
      const d = describeTokenFolder(folder);
      ctx.stdout.write(opts.json ? JSON.stringify(d, null, 1) + "\n" : formatTokenFolder(d) + "\n");
    } else if (TOKEN_FILE.test(file)) {
      const { describeTokenFile, formatTokenDescription } = await import("../../lib/tokens/inspect.js");
      const d = await describeTokenFile(file, { samples: rows });
      ctx.stdout.write(opts.json ? JSON.stringify(d, null, 1) + "\n" : formatTokenDescription(d) + "\n");
    } else {
      const { describeFile, formatDescription } = await import("../../lib/io/inspect.js");
      const d = await describeFile(file, { rows });
      ctx.stdout.write(opts.json ? JSON.stringify(d, bigintSafe, 1) + "\n" : formatDescription(d) + "\n");
    }
    return 0;
  },
});

function bigintSafe(_k: string, v: unknown): unknown {
  return typeof v === "bigint" ? v.toString() : v;
}
