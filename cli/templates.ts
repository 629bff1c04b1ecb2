/**
 * mina-infra templates [--check] [--dir DIR]
 *
 * Writes `.env.template` (every variable the program emits, where its value
 * comes from, no secrets), or with --check exits 1 when the committed file differs
 * from what the program would write.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { renderTemplate, TEMPLATE_FILE } from "../envfiles/templates";
import { projectDir } from "./lib/project";
import { shownPath } from "../lib/root";
import { command, CommandError, commandHint, runCli } from "./lib/run";

export const main = command<{ check?: boolean; dir?: string; json?: boolean }>(
  "templates",
  (c) =>
    c
      .description(`Generate the committed ${TEMPLATE_FILE} from the program's variable list (no secrets, no stack).`)
      .option("--check", `do not write; exit 1 if the committed ${TEMPLATE_FILE} differs`)
      .option("--json", "print the result as JSON: the file and whether it was written")
      .option("--dir <dir>", "project directory (default: the nearest with a Pulumi.yaml)"),
  async ({ opts, io }) => {
    const file = path.join(projectDir(io, opts.dir), TEMPLATE_FILE);
    const text = renderTemplate();
    const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
    const report = (written: boolean) => opts.json && io.stdout.write(`${JSON.stringify({ ok: true, file: shownPath(file, io.cwd), written })}\n`);
    if (current === text) {
      report(false);
      return 0;
    }
    if (opts.check) throw new CommandError(`${TEMPLATE_FILE} differs from the program; run ${commandHint(io.env, "templates")}`);
    fs.writeFileSync(file, text);
    if (!opts.json) io.stdout.write(`wrote ${TEMPLATE_FILE}\n`);
    report(true);
    return 0;
  },
);

if (require.main === module) runCli(main);
