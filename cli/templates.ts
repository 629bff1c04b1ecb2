/**
 * mina-infra templates [--check] [--dir DIR]
 *
 * Writes `.env.<stack>` templates (no secrets) for every stack file, or with
 * --check exits 1 naming each template that differs from what the program emits.
 */
import * as fs from "fs";
import * as path from "path";
import { ConfigErrors, listStackFiles, loadStackOffline, readAllStacks } from "../config";
import { renderTemplate } from "../envfiles/templates";
import { defaultProjectDir } from "../lib/root";
import { command, CommandError, runCli } from "./lib/run";

export const main = command<{ check?: boolean; dir?: string }>(
  "templates",
  (c) =>
    c
      .description("Generate the committed .env.<stack> templates from the program's variable list (no secrets).")
      .option("--check", "do not write; exit 1 if a committed template differs")
      .option("--dir <dir>", "project directory (default: the nearest with a Pulumi.yaml)"),
  async ({ opts, io }) => {
    const dir = opts.dir ? path.resolve(io.cwd, opts.dir) : defaultProjectDir(io.cwd);
    const siblings = readAllStacks(dir);
    const stale: string[] = [];
    for (const { stack } of listStackFiles(dir)) {
      let text: string;
      try {
        text = renderTemplate(loadStackOffline(dir, stack, siblings).config);
      } catch (e) {
        if (e instanceof ConfigErrors) throw new CommandError(`cannot render the ${stack} template: ${e.errors[0].message}`);
        throw e;
      }
      const file = path.join(dir, `.env.${stack}`);
      const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
      if (current === text) continue;
      if (opts.check) stale.push(path.basename(file));
      else {
        fs.writeFileSync(file, text);
        io.stdout.write(`wrote ${path.basename(file)}\n`);
      }
    }
    if (stale.length > 0) throw new CommandError(`templates differ from the program: ${stale.join(", ")}; run npm run templates`);
    return 0;
  },
);

if (require.main === module) runCli(main);
