// The mixture plan: how many tokens each source contributes and how many epochs of it that takes. Per-source
// budgets use largest-remainder rounding so they sum exactly to the total (OLMo-core's rule); a source that would
// have to repeat more than its max_repetition fails the whole plan before anything is packed, listing every
// source that falls short.
import type { MixSpec } from "./spec.js";
import { normalizeWeights, MixSpecError } from "./spec.js";

export interface PlannedSource {
  name: string;
  weight: number;
  planned_tokens: number;
  available_tokens: number;
  available_documents: number;
  epochs: number;
  max_repetition: number;
}

export interface MixPlan {
  total_tokens: number;
  sources: PlannedSource[];
  /** Sum of the weights as given (1 when they were already shares). */
  weights_sum: number;
}

export class MixPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MixPlanError";
  }
}

/** Integer budgets proportional to shares that sum exactly to total. */
export function largestRemainder(total: number, shares: number[]): number[] {
  const raw = shares.map((s) => s * total);
  const out = raw.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) out[order[k][1]]++;
  return out;
}

export function planMixture(spec: MixSpec, available: Map<string, { tokens: number; documents: number }>): MixPlan {
  const { shares, sum } = normalizeWeights(spec);
  const budgets = largestRemainder(spec.total_tokens, shares);
  const problems: string[] = [];
  const sources = spec.sources.map((s, i) => {
    const a = available.get(s.name);
    if (!a) throw new MixSpecError(`source "${s.name}" has no data: give it with --source ${s.name}=PATH or "path" in the spec`);
    const maxRep = s.max_repetition ?? spec.max_repetition;
    const epochs = a.tokens > 0 ? budgets[i] / a.tokens : Infinity;
    if (a.documents === 0 || a.tokens === 0) problems.push(`"${s.name}" has no documents`);
    else if (epochs > maxRep) {
      problems.push(`"${s.name}" must supply ${budgets[i]} tokens (${(shares[i] * 100).toFixed(2)}% of ${spec.total_tokens}) but has ${a.tokens}; that is ${epochs.toFixed(2)} epochs, over its max repetition ${maxRep} (at most ${Math.floor(a.tokens * maxRep)} tokens)`);
    }
    return {
      name: s.name, weight: shares[i], planned_tokens: budgets[i], available_tokens: a.tokens,
      available_documents: a.documents, epochs, max_repetition: maxRep,
    };
  });
  if (problems.length) {
    throw new MixPlanError(`mixture "${spec.name}" cannot be planned for ${spec.total_tokens} tokens:\n  ${problems.join("\n  ")}\nLower --tokens, add data, or raise max_repetition.`);
  }
  return { total_tokens: spec.total_tokens, sources, weights_sum: sum };
}
