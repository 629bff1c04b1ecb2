/**
 * Writing env files: atomically, mode 0600, and never where git would commit them.
 * Every test works in its own temporary directory, most of them a fresh git repository.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../lib/atomicWrite";
import { cleanGitEnvironment, gitStatusOf, refuseUnsafePath } from "../lib/git";

const ENV_FILE = ".env.staging.local";

const modeOf = (path: string) => statSync(path).mode & 0o777;

function git(cwd: string, ...args: string[]): void {
  execFileSync("git", args, { cwd, stdio: "ignore" });
}

/** A fresh repository that sees no global or system ignore rules. */
function makeRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), "envfile-write-"));
  git(dir, "init", "-q");
  writeFileSync(join(dir, ".git", "no-excludes"), "");
  // What `git config` would write, in one go (a process per setting adds up over the file's repositories).
  appendFileSync(
    join(dir, ".git", "config"),
    `[user]\n\temail = tests@example.invalid\n\tname = Env file tests\n[commit]\n\tgpgsign = false\n[core]\n\texcludesFile = ${join(dir, ".git", "no-excludes")}\n`,
  );
  return dir;
}

/** Asserts that `fn` throws a one-line error whose message matches every pattern. */
function assertRefused(fn: () => void, ...patterns: (RegExp | string)[]): string {
  let message = "";
  assert.throws(fn, (e: Error) => {
    message = e.message;
    return true;
  });
  assert.ok(!message.includes("\n"), `one line: ${message}`);
  for (const p of patterns) assert.ok(typeof p === "string" ? message.includes(p) : p.test(message), `${message}\nshould match ${p}`);
  return message;
}

describe("env file writing", () => {
  let repo: string;
  beforeEach(() => {
    repo = makeRepo();
  });
  afterEach(() => {
    chmodSync(repo, 0o755);
    rmSync(repo, { recursive: true, force: true });
  });

  describe("writeFileAtomic", () => {
    it("creates the file with mode 0600 and the given content", () => {
      const target = join(repo, ENV_FILE);
      writeFileAtomic(target, "A=1\n");
      assert.equal(readFileSync(target, "utf8"), "A=1\n");
      assert.equal(modeOf(target), 0o600);
    });

    it("gives a replaced file mode 0600 even if it was readable by others", () => {
      const target = join(repo, ENV_FILE);
      writeFileSync(target, "OLD=1\n", { mode: 0o644 });
      chmodSync(target, 0o644);
      writeFileAtomic(target, "NEW=1\n");
      assert.equal(modeOf(target), 0o600);
    });

    it("applies another mode when asked", () => {
      const target = join(repo, "public.txt");
      writeFileAtomic(target, "x", 0o640);
      assert.equal(modeOf(target), 0o640);
    });

    it("writes into a temporary 0600 file next to the target before the target changes", () => {
      const target = join(repo, ENV_FILE);
      writeFileSync(target, "OLD=1\n");
      let seen: { name: string; mode: number; targetContent: string } | undefined;
      writeFileAtomic(target, () => {
        const temps = readdirSync(repo).filter((n) => n !== ".git" && n !== ENV_FILE);
        assert.equal(temps.length, 1, `one temporary file, got ${temps.join(", ")}`);
        seen = { name: temps[0], mode: modeOf(join(repo, temps[0])), targetContent: readFileSync(target, "utf8") };
        return "NEW=1\n";
      });
      assert.ok(seen);
      assert.match(seen.name, /^\.env\.staging\.local\..*\.tmp$/);
      assert.equal(seen.mode, 0o600);
      assert.equal(seen.targetContent, "OLD=1\n", "the target is untouched while the new content is written");
    });

    it("replaces an existing target by renaming (a new inode), leaving no temporary file", () => {
      const target = join(repo, ENV_FILE);
      writeFileSync(target, "OLD=1\n");
      const before = statSync(target).ino;
      writeFileAtomic(target, "NEW=2\n");
      assert.equal(readFileSync(target, "utf8"), "NEW=2\n");
      assert.notEqual(statSync(target).ino, before);
      assert.deepEqual(readdirSync(repo).sort(), [ENV_FILE, ".git"].sort());
    });

    it("keeps the old target and removes the temporary file when producing the content throws", () => {
      const target = join(repo, ENV_FILE);
      writeFileSync(target, "OLD=1\n");
      assert.throws(
        () =>
          writeFileAtomic(target, () => {
            throw new Error("stack output unavailable");
          }),
        /stack output unavailable/,
      );
      assert.equal(readFileSync(target, "utf8"), "OLD=1\n");
      assert.deepEqual(readdirSync(repo).sort(), [ENV_FILE, ".git"].sort());
    });

    it("removes the temporary file when the rename fails (the target is a directory)", () => {
      const target = join(repo, ENV_FILE);
      mkdirSync(target);
      writeFileSync(join(target, "keep"), "");
      assert.throws(() => writeFileAtomic(target, "NEW=1\n"));
      assert.deepEqual(readdirSync(repo).sort(), [ENV_FILE, ".git"].sort());
      assert.deepEqual(readdirSync(target), ["keep"]);
    });

    it("fails without creating anything when the directory does not exist", () => {
      assert.throws(() => writeFileAtomic(join(repo, "missing", ENV_FILE), "A=1\n"), { code: "ENOENT" });
      assert.deepEqual(readdirSync(repo), [".git"]);
    });
  });

  describe("gitStatusOf", () => {
    it("reports a path in a repository that ignores it, whether or not the file exists", () => {
      writeFileSync(join(repo, ".gitignore"), ".env.*.local\n");
      const expected = {
        inRepo: true,
        tracked: false,
        ignored: true,
        repoRoot: execFileSync("git", ["rev-parse", "--show-toplevel"], { cwd: repo, encoding: "utf8" }).trim(),
      };
      assert.deepEqual(gitStatusOf(join(repo, ENV_FILE)), expected);
      writeFileSync(join(repo, ENV_FILE), "A=1\n");
      assert.deepEqual(gitStatusOf(join(repo, ENV_FILE)), expected);
    });

    it("reports a path in a directory that does not exist yet", () => {
      const status = gitStatusOf(join(repo, "deploy", "dev", ENV_FILE));
      assert.equal(status.inRepo, true);
      assert.equal(status.ignored, false);
    });

    it("reports a tracked file as tracked", () => {
      writeFileSync(join(repo, ENV_FILE), "A=1\n");
      git(repo, "add", ENV_FILE);
      git(repo, "commit", "-q", "-m", "add env file");
      assert.equal(gitStatusOf(join(repo, ENV_FILE)).tracked, true);
    });

    it("reports a path outside any repository", function () {
      const outside = mkdtempSync(join(tmpdir(), "envfile-norepo-"));
      try {
        if (spawnSync("git", ["rev-parse"], { cwd: outside }).status === 0) this.skip(); // the temp dir itself is in a repository
        assert.deepEqual(gitStatusOf(join(outside, ENV_FILE)), { inRepo: false, tracked: false, ignored: false });
      } finally {
        rmSync(outside, { recursive: true, force: true });
      }
    });
  });

  describe("refuseUnsafePath", () => {
    it("accepts an ignored path", () => {
      writeFileSync(join(repo, ".gitignore"), ".env.*.local\n");
      refuseUnsafePath(join(repo, ENV_FILE));
    });

    it("accepts a path outside any repository", function () {
      const outside = mkdtempSync(join(tmpdir(), "envfile-norepo-"));
      try {
        if (spawnSync("git", ["rev-parse"], { cwd: outside }).status === 0) this.skip();
        refuseUnsafePath(join(outside, ENV_FILE));
      } finally {
        rmSync(outside, { recursive: true, force: true });
      }
    });

    it("refuses a path git does not ignore, giving the .gitignore line that fixes it", () => {
      const target = join(repo, ENV_FILE);
      assertRefused(() => refuseUnsafePath(target), `refusing to write ${ENV_FILE}`, "not ignored by git", ".gitignore: .env.*.local");
      appendFileSync(join(repo, ".gitignore"), ".env.*.local\n");
      refuseUnsafePath(target);
    });

    it("gives an anchored line for a file that is not named like an env file", () => {
      const target = join(repo, "deploy", "dev secrets.env");
      mkdirSync(join(repo, "deploy"));
      assertRefused(() => refuseUnsafePath(target), "not ignored by git", ".gitignore: /deploy/dev secrets.env");
      appendFileSync(join(repo, ".gitignore"), "/deploy/dev secrets.env\n");
      refuseUnsafePath(target);
    });

    it("refuses a tracked file even when .gitignore matches it, saying how to untrack it", () => {
      writeFileSync(join(repo, ".gitignore"), ".env.*.local\n");
      writeFileSync(join(repo, ENV_FILE), "A=1\n");
      git(repo, "add", "--force", ENV_FILE);
      git(repo, "commit", "-q", "-m", "add env file by mistake");
      assertRefused(() => refuseUnsafePath(join(repo, ENV_FILE)), "tracked by git", `git rm --cached -- ${ENV_FILE}`, ".gitignore: .env.*.local");
    });

    it("refuses a path in a subdirectory of a repository, naming it from the top", () => {
      mkdirSync(join(repo, "app"));
      assertRefused(() => refuseUnsafePath(join(repo, "app", ENV_FILE)), `refusing to write app/${ENV_FILE}`, ".env.*.local");
    });
  });
  describe("git runs in a clean git environment: the caller's GIT_* variables change nothing", () => {
    const saved = new Map<string, string | undefined>();
    /** Sets variables in process.env for one test; afterEach restores them. */
    const setEnv = (vars: Record<string, string>) => {
      for (const [k, v] of Object.entries(vars)) {
        if (!saved.has(k)) saved.set(k, process.env[k]);
        process.env[k] = v;
      }
    };
    afterEach(() => {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      saved.clear();
    });

    /** A file of ignore rules that ignores everything, and a git config naming it. */
    const ignoreEverything = () => {
      const excludes = join(repo, ".git", "ignore-everything");
      writeFileSync(excludes, "*\n");
      const config = join(repo, ".git", "ignore-everything.gitconfig");
      writeFileSync(config, `[core]\n\texcludesFile = ${excludes}\n`);
      return { excludes, config };
    };

    /** Another repository that ignores everything, to point GIT_DIR and friends at. */
    const decoy = () => {
      const dir = mkdtempSync(join(tmpdir(), "envfile-decoy-"));
      git(dir, "init", "-q");
      writeFileSync(join(dir, ".git", "info", "exclude"), "*\n");
      return dir;
    };

    it("cleanGitEnvironment removes every GIT_ variable and keeps the rest", () => {
      const env = cleanGitEnvironment({
        PATH: "/usr/bin",
        HOME: "/home/dev",
        GIT_DIR: "x",
        GIT_CEILING_DIRECTORIES: "/",
        GIT_CONFIG_COUNT: "1",
        GIT_CONFIG_KEY_0: "k",
        GIT_CONFIG_VALUE_0: "v",
        GIT_ANYTHING_NEW: "y",
        git_dir: "z",
      });
      assert.deepEqual(env, { PATH: "/usr/bin", HOME: "/home/dev", LC_ALL: "C", LANGUAGE: "" });
    });

    const refusedUnignored = (target: string) => assertRefused(() => refuseUnsafePath(target), "not ignored by git");

    it("GIT_CEILING_DIRECTORIES cannot hide the repository from a path in a subdirectory", () => {
      mkdirSync(join(repo, "app"));
      setEnv({ GIT_CEILING_DIRECTORIES: repo });
      assert.notEqual(spawnSync("git", ["rev-parse"], { cwd: join(repo, "app") }).status, 0, "control: git itself no longer sees the repository");
      refusedUnignored(join(repo, "app", ENV_FILE));
      assert.equal(gitStatusOf(join(repo, "app", ENV_FILE)).inRepo, true);
    });

    it("GIT_CONFIG_COUNT / GIT_CONFIG_KEY_n / GIT_CONFIG_VALUE_n cannot ignore the path", () => {
      const { excludes } = ignoreEverything();
      setEnv({ GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "core.excludesFile", GIT_CONFIG_VALUE_0: excludes });
      assert.equal(spawnSync("git", ["check-ignore", "-q", ENV_FILE], { cwd: repo }).status, 0, "control: git itself now ignores it");
      refusedUnignored(join(repo, ENV_FILE));
    });

    it("GIT_CONFIG_PARAMETERS (what git -c passes on) cannot ignore the path", () => {
      const { excludes } = ignoreEverything();
      setEnv({ GIT_CONFIG_PARAMETERS: `'core.excludesfile'='${excludes}'` });
      assert.equal(spawnSync("git", ["check-ignore", "-q", ENV_FILE], { cwd: repo }).status, 0, "control: git itself now ignores it");
      refusedUnignored(join(repo, ENV_FILE));
    });

    it("GIT_CONFIG_GLOBAL and GIT_CONFIG_SYSTEM cannot swap in a config that ignores the path", () => {
      const { config } = ignoreEverything();
      git(repo, "config", "--unset", "core.excludesFile");
      try {
        setEnv({ GIT_CONFIG_GLOBAL: config, GIT_CONFIG_SYSTEM: config });
        assert.equal(spawnSync("git", ["check-ignore", "-q", ENV_FILE], { cwd: repo }).status, 0, "control: git itself now ignores it");
        // without them, whatever the user's own global excludes say: a fresh name nobody ignores
        refusedUnignored(join(repo, "mina-never-ignored-anywhere.env"));
      } finally {
        git(repo, "config", "core.excludesFile", join(repo, ".git", "no-excludes"));
      }
    });

    it("GIT_DIR and GIT_WORK_TREE cannot point git at a repository that ignores everything", () => {
      const other = decoy();
      try {
        setEnv({ GIT_DIR: join(other, ".git"), GIT_WORK_TREE: repo });
        assert.equal(spawnSync("git", ["check-ignore", "-q", ENV_FILE], { cwd: repo }).status, 0, "control: git itself now ignores it");
        refusedUnignored(join(repo, ENV_FILE));
      } finally {
        rmSync(other, { recursive: true, force: true });
      }
    });

    it("GIT_INDEX_FILE cannot make a tracked file look untracked", () => {
      writeFileSync(join(repo, ".gitignore"), ".env.*.local\n");
      writeFileSync(join(repo, ENV_FILE), "A=1\n");
      git(repo, "add", "--force", ENV_FILE);
      git(repo, "commit", "-q", "-m", "add env file by mistake");
      setEnv({ GIT_INDEX_FILE: join(repo, ".git", "empty-index") });
      assert.notEqual(spawnSync("git", ["ls-files", "--error-unmatch", ENV_FILE], { cwd: repo }).status, 0, "control: git itself no longer sees it tracked");
      assertRefused(() => refuseUnsafePath(join(repo, ENV_FILE)), "tracked by git");
    });

    it("all of them at once", () => {
      mkdirSync(join(repo, "app"));
      const { excludes, config } = ignoreEverything();
      const other = decoy();
      try {
        setEnv({
          GIT_DIR: join(other, ".git"),
          GIT_WORK_TREE: other,
          GIT_CEILING_DIRECTORIES: repo,
          GIT_INDEX_FILE: join(repo, ".git", "empty-index"),
          GIT_CONFIG_COUNT: "1",
          GIT_CONFIG_KEY_0: "core.excludesFile",
          GIT_CONFIG_VALUE_0: excludes,
          GIT_CONFIG_PARAMETERS: `'core.excludesfile'='${excludes}'`,
          GIT_CONFIG_GLOBAL: config,
        });
        assertRefused(() => refuseUnsafePath(join(repo, "app", ENV_FILE)), `refusing to write app/${ENV_FILE}`, "not ignored by git");
      } finally {
        rmSync(other, { recursive: true, force: true });
      }
    });
  });
});
