// Starting a worker thread on a module that may be TypeScript (development, under tsx) or compiled JS (dist).

/** Source of a worker that loads `url`. Running from sources (tsx), a worker thread does not get tsx's loader
 * hooks for its entry point, so the bootstrap registers tsx first and then import()s the .ts module. */
export function workerBootstrap(url: URL): string {
  const target = JSON.stringify(url.href);
  if (!url.pathname.endsWith(".ts")) return `import(${target});`;
  const api = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  return `import(${api}).then((t) => { t.register(); return import(${target}); });`;
}

