// megamath card: Hugging Face dataset cards (README.md) for a finished build's corpus and its mixtures.
import { defineCommand, UsageError } from "../command.js";
import { writeCards } from "../../recipe/card/folder.js";

export default defineCommand({
  name: "card",
  usage: "card DIR [--license ID]",
  positionals: 1,
  details: [
    "DIR is a build folder (plan.json: writes README.md into the final corpus folder and into every mixture folder)",
    "or a mixture folder (mixture.json). Each card has the Hub's YAML metadata header (license, language,",
    "size_categories, task_categories, configs with data_files) and, from the build's own outputs, documents and",
    "tokens per step, year and source, the recipe's settings and differences from the paper, the decontamination",
    "benchmarks with documents removed, and the inputs' provenance and licences.",
  ].join("\n"),
  options: {
    license: { type: "string", placeholder: "ID", description: "Hub licence id of the corpus card (default odc-by, MegaMath-Web's)." },
  },
  async run({ positionals, opts, ctx }) {
    if (positionals.length !== 1) throw new UsageError("usage: megamath card DIR");
    const written = await writeCards(positionals[0], { license: opts.license });
    ctx.stdout.write(written.map((w) => `card: ${w}\n`).join(""));
    return 0;
  },
});
