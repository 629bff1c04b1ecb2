/**
 * How a message names a command the user can type: the way they ran this one,
 * as an npm script (options after `--`) or through the `mina-infra` bin.
 */

/** Whether this runs as an npm script (`npm run plan`), where options go after `--`; not `npx` (npm exec). */
export function underNpmRun(env: NodeJS.ProcessEnv): boolean {
  return env.npm_lifecycle_event !== undefined && env.npm_lifecycle_event !== "" && env.npm_lifecycle_event !== "npx";
}

/**
 * A command line the user can type to run `command` with `args`: through npm
 * when running under npm (`npm run -s verify -- FILE`), else through the bin
 * (`mina-infra verify FILE`). `script` is the npm script, when not the command's name.
 */
export function commandHint(env: NodeJS.ProcessEnv, command: string, args = "", script = command): string {
  return underNpmRun(env) ? `npm run -s ${script}${args ? ` -- ${args}` : ""}` : `mina-infra ${command}${args ? ` ${args}` : ""}`;
}
