// What a card says about the datasets a build or mixture reads: where each released set lives on the Hugging Face
// Hub and its licence. MegaMath's and Pro-Max's come from recipe.md §6; the others as their Hub cards state them
// (checked when this table was written; a card may change, so the card tells the reader to check before release).

export interface InputInfo {
  /** Hub dataset id. */
  hub: string;
  /** Hub licence id (https://hf.co/docs/hub/repositories-licenses). */
  license: string;
  note?: string;
}

export const KNOWN_INPUTS: Record<string, InputInfo> = {
  "megamath-web": { hub: "LLM360/MegaMath (megamath-web)", license: "odc-by" },
  "megamath-web-pro": { hub: "LLM360/MegaMath (megamath-web-pro)", license: "odc-by" },
  "megamath-web-pro-max": { hub: "OctoThinker/MegaMath-Web-Pro-Max", license: "odc-by", note: "gated: the access terms add non-commercial use" },
  "megamath-qa": { hub: "LLM360/MegaMath (megamath-qa)", license: "odc-by" },
  "megamath-code": { hub: "LLM360/MegaMath (megamath-code)", license: "odc-by", note: "released as metadata only; the code text comes from the Stack v2 files it lists, under their own licences" },
  "megamath-translated-code": { hub: "LLM360/MegaMath (megamath-translated-code)", license: "odc-by" },
  "megamath-text-code-block": { hub: "LLM360/MegaMath (megamath-text-code-block)", license: "odc-by" },
  "dclm-baseline": { hub: "mlfoundations/dclm-baseline-1.0", license: "cc-by-4.0" },
  "openr1-math-220k": { hub: "open-r1/OpenR1-Math-220k", license: "apache-2.0" },
  "am-deepseek-distilled-40m": { hub: "a-m-team/AM-DeepSeek-Distilled-40M", license: "cc-by-nc-4.0", note: "non-commercial" },
  "openmathinstruct-2": { hub: "nvidia/OpenMathInstruct-2", license: "cc-by-4.0" },
  "numinamath-1.5": { hub: "AI-MO/NuminaMath-1.5", license: "apache-2.0" },
  instruction: {
    hub: "allenai/tulu-3-sft-personas-instruction-following, allenai/WildChat, HuggingFaceH4/ultrachat_200k",
    license: "other", note: "odc-by (TULU 3 personas, WildChat) and mit (UltraChat-200K)",
  },
};

/** The inputs of a mixture source by name; unknown names are the user's own data. */
export function inputInfo(name: string): InputInfo {
  return KNOWN_INPUTS[name] ?? { hub: "(your own data)", license: "unknown", note: "not one of the paper's sources: state its licence yourself" };
}

/** The Hub's size category for a number of rows (the values its dataset card metadata accepts). */
export function sizeCategory(rows: number): string {
  const cats: [number, string][] = [
    [1e3, "n<1K"], [1e4, "1K<n<10K"], [1e5, "10K<n<100K"], [1e6, "100K<n<1M"], [1e7, "1M<n<10M"],
    [1e8, "10M<n<100M"], [1e9, "100M<n<1B"], [1e10, "1B<n<10B"], [1e11, "10B<n<100B"], [1e12, "100B<n<1T"],
  ];
  for (const [limit, cat] of cats) if (rows < limit) return cat;
  return "n>1T";
}
