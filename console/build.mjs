// Bundles src/main.ts (and lazily loaded chunks) into dist/ with content-hashed names,
// then writes dist/index.html naming them. No framework; see docs/console.md.
import { build } from "esbuild";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";

const dist = new URL("./dist/", import.meta.url);
await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });

const result = await build({
  entryPoints: { app: "src/main.ts", styles: "src/styles.css" },
  bundle: true,
  splitting: true,
  format: "esm",
  target: ["es2020"],
  minify: true,
  sourcemap: false,
  entryNames: "[name]-[hash]",
  chunkNames: "chunk-[hash]",
  outdir: "dist",
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});

const outputs = Object.entries(result.metafile.outputs);
const named = (entry, ext) =>
  outputs.find(([file, meta]) => meta.entryPoint === entry && file.endsWith(ext))[0].replace("dist/", "");
const html = (await readFile(new URL("./index.html", import.meta.url), "utf8"))
  .replace("%APP_JS%", named("src/main.ts", ".js"))
  .replace("%STYLES_CSS%", named("src/styles.css", ".css"));
await writeFile(new URL("./index.html", dist), html);
console.log(`console built: ${outputs.length} files in dist/`);
