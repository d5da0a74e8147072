// Child process for the memory tests: reads one file with readDocuments (options as JSON in argv[3]), stopping
// after argv[4] batches if given, and prints {rows, error, failed, maxRssMB, cpuS} — peak RSS of a fresh process is the reader's own.
import { readDocuments } from "../../lib/io/index.js";
import { StageStats } from "../../lib/runtime/stats.js";

const [file, optsJson = "{}", stopAfter] = process.argv.slice(2);
const stats = new StageStats("read");
const opts = { ...JSON.parse(optsJson), stats };
let rows = 0;
let batches = 0;
let error: string | null = null;
try {
  for await (const b of readDocuments(file, opts)) {
    rows += b.numRows;
    if (stopAfter && ++batches >= Number(stopAfter)) {
      // A slow consumer: a decoder that ignores backpressure keeps filling memory meanwhile.
      await new Promise((r) => setTimeout(r, 500));
      break;
    }
  }
} catch (e) {
  error = (e as Error).message;
}
console.log(JSON.stringify({ rows, error, failed: stats.failed, maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  cpuS: +(process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6).toFixed(2) }));
