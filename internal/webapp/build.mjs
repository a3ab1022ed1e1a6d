// Bundles the phone app's modules and their npm libraries into
// dist/app.js, which the Go server embeds. The output depends only on
// src/ and the versions package-lock.json pins, so CI can rebuild it and
// compare.
import * as esbuild from "esbuild";

await esbuild.build({
  entryPoints: ["src/main.js"],
  outfile: "dist/app.js",
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  legalComments: "eof",
  charset: "utf8",
  logLevel: "warning",
});
