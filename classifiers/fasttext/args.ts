// The model hyper-parameters exactly as fastText stores them in the .bin header (Args::save / Args::load).

export type LossName = "hs" | "ns" | "softmax" | "ova";
export type ModelName = "cbow" | "skipgram" | "supervised";

/** fastText's enum values (loss_name / model_name start at 1). */
export const LOSS_CODES: Record<LossName, number> = { hs: 1, ns: 2, softmax: 3, ova: 4 };
export const MODEL_CODES: Record<ModelName, number> = { cbow: 1, skipgram: 2, supervised: 3 };

export function lossFromCode(code: number): LossName | undefined {
  return (Object.keys(LOSS_CODES) as LossName[]).find((k) => LOSS_CODES[k] === code);
}
export function modelFromCode(code: number): ModelName | undefined {
  return (Object.keys(MODEL_CODES) as ModelName[]).find((k) => MODEL_CODES[k] === code);
}

/** Everything the .bin header holds, plus the flags that live elsewhere in the file (qout) and the label prefix,
 * which fastText does not save and always takes as "__label__" when it loads a model. */
export interface FastTextArgs {
  dim: number;
  ws: number;
  epoch: number;
  minCount: number;
  neg: number;
  wordNgrams: number;
  loss: LossName;
  model: ModelName;
  bucket: number;
  minn: number;
  maxn: number;
  lrUpdateRate: number;
  t: number;
  label: string;
  qout: boolean;
}

/** fastText's own defaults for `fasttext supervised` (args.cc, then the supervised overrides). */
export function supervisedDefaults(): FastTextArgs {
  return {
    dim: 100,
    ws: 5,
    epoch: 5,
    minCount: 1,
    neg: 5,
    wordNgrams: 1,
    loss: "softmax",
    model: "supervised",
    bucket: 2_000_000,
    minn: 0,
    maxn: 0,
    lrUpdateRate: 100,
    t: 1e-4,
    label: "__label__",
    qout: false,
  };
}

/** Byte size of the Args block in a .bin: twelve int32 then one float64. */
export const ARGS_BYTES = 12 * 4 + 8;
