import { sep } from "node:path";

/** Does option value `v` name folder `dir` or a path under it (alone, or inside a value like NAME=PATH)? */
export function mentions(v: string, dir: string): boolean {
  for (let at = v.indexOf(dir); at >= 0; at = v.indexOf(dir, at + 1)) {
    const after = v[at + dir.length];
    if ((at === 0 || !/[\w.-]/.test(v[at - 1])) && (after === undefined || after === sep || after === ",")) return true;
  }
  return false;
}
