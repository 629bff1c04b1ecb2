/**
 * npm run templates -- [--check] [--dir DIR]
 *
 * Writes `.env.<stack>` templates (no secrets) for every stack file, or with
 * --check exits 1 naming each template that differs from what the program emits.
 */
import * as fs from "fs";
import * as path from "path";
import { ConfigErrors, listStackFiles, loadStackOffline, readAllStacks } from "../config";
import { renderTemplate } from "../envfiles/templates";
import { CommandError, runMain, newCommand } from "./lib/run";

const program = newCommand("templates")
  .description("Generate the committed .env.<stack> templates from the program's variable list (no secrets).")
  .option("--check", "do not write; exit 1 if a committed template differs")
  .option("--dir <dir>", "project directory", path.resolve(__dirname, ".."));

runMain(async () => {
  program.parse();
  const o = program.opts<{ check?: boolean; dir: string }>();
  const siblings = readAllStacks(o.dir);
  const stale: string[] = [];
  for (const { stack } of listStackFiles(o.dir)) {
    let text: string;
    try {
      text = renderTemplate(loadStackOffline(o.dir, stack, siblings).config);
    } catch (e) {
      if (e instanceof ConfigErrors) throw new CommandError(`cannot render the ${stack} template: ${e.errors[0].message}`);
      throw e;
    }
    const file = path.join(o.dir, `.env.${stack}`);
    const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
    if (current === text) continue;
    if (o.check) stale.push(path.basename(file));
    else {
      fs.writeFileSync(file, text);
      process.stdout.write(`wrote ${path.basename(file)}\n`);
    }
  }
  if (stale.length > 0) throw new CommandError(`templates differ from the program: ${stale.join(", ")}; run npm run templates`);
  return 0;
});
