/**
 * mina-infra env:new NAME --from TIER [--dir DIR] [--json]
 *
 * Writes the stack file of a new environment, `Pulumi.NAME.yaml`, from the committed
 * template `Pulumi.TIER.template.yaml` (the logic is `newEnvironment` in
 * config/template.ts), and prints the commands to run next.
 */
import * as path from "node:path";
import { CREATED_BY_TAG, newEnvironment, NewEnvironmentRefused } from "../config/template";
import { shownPath } from "../lib/root";
import { projectDir } from "./lib/project";
import { command, CommandError, runCli, UsageError } from "./lib/run";

export const main = command<{ from: string; dir?: string; json?: boolean }>(
  "env:new",
  (c) =>
    c
      .description(
        "Write Pulumi.NAME.yaml for a new environment from the committed template Pulumi.TIER.template.yaml, with the name substituted; refused, before anything is written, when the name or the result does not validate.",
      )
      .argument("<name>", "the new environment's (= stack's) name, e.g. pr-42")
      .requiredOption("--from <tier>", "the template to start from: review (Pulumi.review.template.yaml)")
      .option("--dir <dir>", "project directory holding the Pulumi.<stack>.yaml files (default: the nearest with a Pulumi.yaml)")
      .option("--json", "print a machine-readable summary"),
  async ({ opts, args, io }) => {
    const dir = projectDir(io, opts.dir);
    let made;
    try {
      made = newEnvironment(dir, args[0], opts.from);
    } catch (e) {
      if (e instanceof NewEnvironmentRefused) throw e.usage ? new UsageError(e.message) : new CommandError(e.message);
      throw e;
    }
    // Pulumi finds the project where the user stands, unless told.
    const elsewhere = path.resolve(io.cwd) !== dir ? ` --cwd ${shownPath(dir, io.cwd)}` : "";
    const next = made.next.map((c) => c + elsewhere);
    const file = shownPath(made.file, io.cwd);
    const template = shownPath(made.template, io.cwd);
    if (opts.json) {
      const { stack, tier, profile, databaseMode, missingSecrets } = made;
      io.stdout.write(`${JSON.stringify({ stack, tier, file, template, profile, databaseMode, tag: CREATED_BY_TAG, missingSecrets, next }, null, 2)}\n`);
      return 0;
    }
    io.stdout.write(
      `${[
        `wrote ${file} from ${template}: environment ${made.stack}, profile ${made.profile}, database mode ${made.databaseMode}`,
        `do not commit it: it is this pull request's environment; the tag ${CREATED_BY_TAG.name}=${CREATED_BY_TAG.value} marks its stack as made by env:new`,
        "next:",
        ...next.map((c) => `  ${c}`),
      ].join("\n")}\n`,
    );
    return 0;
  },
);

if (require.main === module) runCli(main);
