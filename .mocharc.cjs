/**
 * mocha's settings for `npm test`. The files run in parallel on two workers, each
 * taking the next file when it is free; the longest files (and those that mostly
 * wait on servers and timeouts) start first, so that no worker is left with a long
 * file at the end while the other idles. Every other test file follows, by name.
 */
const fs = require("node:fs");
const path = require("node:path");

const FIRST = [
  "plan-diff",
  "bluegreen",
  "refresh-shapes",
  "exit-codes",
  "refresh",
  "snapshot",
  "verify-live",
  "doctor",
  "plan",
  "closed-output",
  "rotate",
  "sweep",
  "demo",
].map((name) => `tests/${name}.test.ts`);

const all = (dir) =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? all(path.join(dir, e.name)) : e.name.endsWith(".test.ts") ? [path.join(dir, e.name)] : []))
    .sort();

const files = all("tests");
module.exports = {
  require: ["tsx/cjs", "tests/global-moto.ts"],
  extension: ["ts"],
  spec: [...FIRST.filter((f) => files.includes(f)), ...files.filter((f) => !FIRST.includes(f))],
  timeout: 60000,
  reporter: "spec",
  parallel: true,
  jobs: 2,
};
