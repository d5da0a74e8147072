// Where the package's own files are (presets, recipes, fixtures, the trainer), whether the code runs from the
// TypeScript sources (tsx) or from the compiled dist/ folder of an installed package.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, "utf8")).name === "megamath") return dir;
      } catch {
        /* not ours; keep walking up */
      }
    }
    dir = resolve(dir, "..");
  }
  throw new Error("cannot find the megamath package root (package.json) above " + fileURLToPath(import.meta.url));
}

export const packageRoot = findRoot();

/** A file shipped with the package, e.g. packagePath("pipelines", "pro-max-demo.json"). */
export function packagePath(...parts: string[]): string {
  return join(packageRoot, ...parts);
}

export function packageVersion(): string {
  return JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")).version;
}
