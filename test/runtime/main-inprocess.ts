// The megamath command run in this process (no child start-up), with what it wrote to stderr.
import { main } from "../../cli/main.js";

export async function megamath(args: string[]): Promise<{ code: number; err: string }> {
  const write = process.stderr.write;
  let err = "";
  process.stderr.write = ((chunk: string | Uint8Array) => ((err += String(chunk)), true)) as typeof process.stderr.write;
  try {
    return { code: await main(args), err };
  } finally {
    process.stderr.write = write;
  }
}
