#!/usr/bin/env node
// The published entry: runs the compiled CLI (npm install / npm pack build dist/ through the "prepare" script).
import { main } from "../dist/cli/main.js";
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
