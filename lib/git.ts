/**
 * What git thinks of a path: inside a work tree, tracked, ignored. Asked with a
 * clean git environment, so that the caller's GIT_* variables cannot make a path
 * inside the repository look outside it, untracked or ignored. Used by the
 * env-file writer (refuse a path git would commit) and by verify.
 */
import { spawnSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { firstLine } from "./errors";

export interface GitStatus {
  /** Whether the path lies inside a git work tree. */
  readonly inRepo: boolean;
  /** Whether git tracks the path. */
  readonly tracked: boolean;
  /** Whether a .gitignore (or info/exclude, or core.excludesFile) ignores the path. */
  readonly ignored: boolean;
  /** The work tree's top directory, when in a repository. */
  readonly repoRoot?: string;
}

/**
 * The environment git runs in: the caller's, minus every `GIT_*` variable (deny
 * by default, not a list): GIT_DIR, GIT_WORK_TREE, GIT_CEILING_DIRECTORIES,
 * GIT_INDEX_FILE, GIT_CONFIG_GLOBAL, GIT_CONFIG_COUNT/KEY_n/VALUE_n,
 * GIT_CONFIG_PARAMETERS and the rest could each make a path inside a repository
 * look outside it, untracked or ignored. The user's own global and system config
 * (~/.gitconfig, core.excludesFile) still apply: ignoring a file there is a
 * legitimate choice of the user, and git ignores it for them too.
 */
export function cleanGitEnvironment(from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(from)) if (!/^GIT_/i.test(name)) env[name] = value;
  return { ...env, LC_ALL: "C", LANGUAGE: "" };
}

/** Runs git where the path is, in {@link cleanGitEnvironment}. */
function git(args: readonly string[], cwd: string) {
  const r = spawnSync("git", args, { cwd, env: cleanGitEnvironment(), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (r.error) throw new Error(`cannot run git to check where ${cwd} is: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

/** The closest existing directory at or above `dir` (git needs an existing working directory). */
function existingDirectory(dir: string): string {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

/**
 * Where git should be asked about `path`: the closest existing directory, the path
 * relative to it, and the path with symbolic links resolved (git reports real paths).
 */
function locate(path: string): { cwd: string; name: string; real: string } {
  const target = resolve(path);
  const cwd = existingDirectory(dirname(target));
  const name = relative(cwd, target);
  return { cwd, name, real: join(realpathSync(cwd), name) };
}

/** What git thinks of `path` (which need not exist yet), asking the repository that contains it. */
export function gitStatusOf(path: string): GitStatus {
  const { cwd, name } = locate(path);
  const target = resolve(path);

  const top = git(["rev-parse", "--show-toplevel"], cwd);
  if (top.status !== 0) {
    if (/not a git repository/i.test(top.stderr)) return { inRepo: false, tracked: false, ignored: false };
    throw new Error(`git cannot tell whether ${target} is in a repository: ${firstLine(top.stderr)}`);
  }
  // `git rev-parse` succeeds inside .git itself, where there is no work tree to ask about
  if (top.stdout === "") return { inRepo: false, tracked: false, ignored: false };

  const tracked = git(["ls-files", "--error-unmatch", "--", name], cwd).status === 0;
  const check = git(["check-ignore", "-q", "--", name], cwd);
  if (check.status !== 0 && check.status !== 1) throw new Error(`git check-ignore failed for ${target}: ${firstLine(check.stderr)}`);
  return { inRepo: true, tracked, ignored: check.status === 0, repoRoot: top.stdout };
}

/** Developer env files are named `.env.<stack>.local`; one pattern covers every stack. */
const ENV_FILE_NAME = /^\.env\.[^/\\]+\.local$/;

/** Escapes what .gitignore would read as a pattern, a comment or a negation. */
function gitignoreLiteral(path: string): string {
  return path
    .replace(/[\\*?[\]]/g, "\\$&")
    .replace(/^[#!]/, "\\$&")
    .replace(/ $/, "\\ ");
}

/**
 * The line to add to the repository's top-level .gitignore so git ignores `path`:
 * `.env.*.local` for env files, otherwise the path itself, anchored at the top.
 */
export function gitignoreLineFor(path: string, repoRoot: string): string {
  const { real } = locate(path);
  if (ENV_FILE_NAME.test(basename(real))) return ".env.*.local";
  return `/${gitignoreLiteral(relative(realpathSync(repoRoot), real).split(sep).join("/"))}`;
}

/**
 * Throws when writing secrets to `path` could end up in git: the path is tracked,
 * or it lies in a repository that does not ignore it. The one-line message says
 * why and gives the exact .gitignore line that fixes it.
 */
export function refuseUnsafePath(path: string): void {
  const status = gitStatusOf(path);
  if (!status.inRepo || status.repoRoot === undefined) return;
  const shown = relative(realpathSync(status.repoRoot), locate(path).real).split(sep).join("/");
  const line = gitignoreLineFor(path, status.repoRoot);
  const gitignore = join(status.repoRoot, ".gitignore");
  if (status.tracked) {
    throw new Error(`refusing to write ${shown}: it is tracked by git; run \`git rm --cached -- ${shown}\` and add this line to ${gitignore}: ${line}`);
  }
  if (!status.ignored) {
    throw new Error(`refusing to write ${shown}: it is not ignored by git; add this line to ${gitignore}: ${line}`);
  }
}

/**
 * What `git status --porcelain` says of `path` (which must exist): empty when the
 * file is committed as it is; a line such as ` M file` (changed), `M  file`
 * (staged) or `?? file` (untracked) otherwise. Undefined outside a work tree.
 */
export function uncommittedChangesOf(path: string): string | undefined {
  const { cwd, name } = locate(path);
  const top = git(["rev-parse", "--show-toplevel"], cwd);
  if (top.status !== 0 || top.stdout === "") return undefined;
  const s = git(["status", "--porcelain", "--untracked-files=all", "--", name], cwd);
  if (s.status !== 0) throw new Error(`git status failed for ${resolve(path)}: ${firstLine(s.stderr)}`);
  return s.stdout;
}

/**
 * The state of the work tree that holds `dir`: its top directory, the commit
 * checked out, and what `git status --porcelain` lists for the whole tree (changed,
 * staged, deleted and untracked files; ignored ones are not listed). Undefined
 * outside a work tree.
 */
export function workTreeOf(dir: string): { root: string; head?: string; changes: string[] } | undefined {
  const cwd = existingDirectory(resolve(dir));
  const top = git(["rev-parse", "--show-toplevel"], cwd);
  if (top.status !== 0 || top.stdout === "") return undefined;
  const head = git(["rev-parse", "--verify", "--quiet", "HEAD"], top.stdout);
  const s = git(["status", "--porcelain", "--untracked-files=all", "--ignore-submodules=none"], top.stdout);
  if (s.status !== 0) throw new Error(`git status failed in ${top.stdout}: ${firstLine(s.stderr)}`);
  return { root: top.stdout, head: head.status === 0 && head.stdout !== "" ? head.stdout : undefined, changes: s.stdout === "" ? [] : s.stdout.split("\n") };
}
