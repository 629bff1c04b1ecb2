/**
 * Env file format: every value is written so that the four ways people load
 * `.env.<stack>.local` read it back byte for byte, and where one of them cannot,
 * `portabilityProblems` says so. Both halves are checked against the real readers:
 * Debian's python-dotenv (`/usr/bin/python3`), npm `dotenv`, `bash` sourcing the file
 * and bash's `export $(cat FILE | grep -v '^#' | xargs)`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as dotenvParse } from "dotenv";
import { buildDatabaseUrl, buildRedisUrl } from "../components/urls";
import { assertSerializable, PARSERS, type Parser, parseEnvFile, portabilityProblems, quoteValue, serializeEnvFile } from "../envfiles/format";

type Loaded = Record<Parser, Record<string, string | undefined>>;

const FILE = ".env.test.local";
const STACK = "staging";
const GENERATED_AT = new Date("2025-01-02T03:04:05.678Z");

/** A fixed environment for the child processes: `${HOME}` must not expand to itself. */
const CHILD_ENV = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/home/mina-test", LANG: "C.UTF-8" };

const PYTHON = `
import json, sys
from dotenv import dotenv_values
print(json.dumps(dotenv_values(sys.argv[1])))
`;

/** Prints each named variable that is set as `name NUL value NUL`. */
const DUMP = `for k in "$@"; do if [ -n "\${!k+set}" ]; then printf '%s\\0%s\\0' "$k" "\${!k}"; fi; done`;

function run(command: string, args: readonly string[], cwd: string): string {
  const r = spawnSync(command, args, { cwd, env: CHILD_ENV, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return r.stdout;
}

function nulPairs(out: string): Record<string, string> {
  const parts = out.split("\0");
  const vars: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length; i += 2) vars[parts[i]] = parts[i + 1];
  return vars;
}

/** Writes `text` to FILE in `dir` and loads it with each of the four readers. */
function loadWithEveryParser(dir: string, text: string, keys: readonly string[]): Loaded {
  writeFileSync(join(dir, FILE), text);
  const python = JSON.parse(run("/usr/bin/python3", ["-c", PYTHON, join(dir, FILE)], dir)) as Record<string, string | null>;
  return {
    "python-dotenv": Object.fromEntries(Object.entries(python).map(([k, v]) => [k, v ?? undefined])),
    "npm dotenv": dotenvParse(text),
    "bash source": nulPairs(run("bash", ["-c", `set -a; . ./${FILE}; set +a; ${DUMP}`, "bash", ...keys], dir)),
    "xargs export": nulPairs(run("bash", ["-c", `export $(cat ${FILE} | grep -v '^#' | xargs); ${DUMP}`, "bash", ...keys], dir)),
  };
}

/**
 * Writes `values` into one file, each followed by a plain sentinel line, loads it
 * with every reader, and checks each reader against `portabilityProblems`:
 * a reader not named there returns the value exactly, a reader named there really
 * does not. Every sentinel must survive everywhere: no value may damage its neighbours.
 */
function assertRoundTrip(dir: string, values: readonly string[], prefix: string): void {
  const entries: [string, string][] = [];
  values.forEach((value, i) => {
    entries.push([`${prefix}_${String(i).padStart(3, "0")}`, value]);
    entries.push([`${prefix}_${String(i).padStart(3, "0")}_NEXT`, "sentinel"]);
  });
  const keys = entries.map(([k]) => k);
  const loaded = loadWithEveryParser(dir, serializeEnvFile({ stack: STACK, generatedAt: GENERATED_AT, entries }), keys);
  const failures: string[] = [];
  for (const [key, value] of entries) {
    const expectedProblems = key.endsWith("_NEXT") ? [] : portabilityProblems(value);
    for (const parser of PARSERS) {
      const got = loaded[parser][key];
      const exact = got === value;
      if (expectedProblems.includes(parser) && exact) failures.push(`${parser} loads ${key}=${JSON.stringify(value)} exactly, but it is reported as a problem`);
      if (!expectedProblems.includes(parser) && !exact) failures.push(`${parser} reads ${key}=${JSON.stringify(value)} as ${JSON.stringify(got)}`);
    }
  }
  assert.deepEqual(failures, []);
}

/** Values people put in env files, and values meant to break quoting. */
const HOSTILE: readonly string[] = [
  "",
  "plain-value_1.2:3@4%5+6,7=8?9/0",
  "two words",
  " leading space",
  "trailing space ",
  "  ",
  "tab\tinside",
  "#starts-with-hash",
  "has #hash after a space",
  "a#b",
  "$",
  "$HOME",
  "${HOME}",
  "${HOME:-fallback}",
  "${UNSET_VARIABLE}",
  "${}",
  "${HOME",
  "${A:B}",
  "price: $5",
  "$(id)",
  "`id`",
  "a&b",
  "a;b",
  "a|b",
  "<in>out",
  "(sub)",
  "~",
  "~/path",
  "!history",
  "*",
  "a?b",
  "[abc]",
  "it's",
  "'single quoted'",
  "''",
  '"double quoted"',
  '""',
  'say "hi"',
  `both ' and "`,
  `both'and"`,
  "back\\slash",
  "\\",
  "ends with backslash\\",
  "ends-with-backslash\\",
  "two\\\\backslashes",
  "\\n literally",
  "\\r\\t\\a\\b\\f\\v",
  "\\'",
  '\\"',
  "\\$HOME",
  "'\\",
  "=",
  "==leading-equals",
  "KEY=VALUE",
  "export X=1",
  "ünïcödé",
  "日本語",
  "emoji 🎙️🚀",
  "😀",
  "non\u00a0breaking\u00a0space",
  "\u00a0",
  "line\u2028separator",
  "zero\u200bwidth",
  "\ufeffbom",
  "escape\u001b[31m",
  "vertical\u000btab and form\u000cfeed",
  "next\u0085line",
  "file\u001cseparator",
  "postgresql://mina_staging_app:p%40ss%3Aw%2Frd%20x@db.staging.internal:5432/mina_staging?sslmode=require",
  "rediss://default:AbC%2B%2F%3D@mina-staging.upstash.io:6379",
  randomBytes(32).toString("hex"),
  "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
  "a".repeat(5000),
];

/** Values the program itself generates: none may be reported, all must load everywhere. */
function generatedValues(): string[] {
  const passwords = ["Zq3-xY_9.abc", "p@ss:w/rd?#&=", "quote'star*bang!(paren)~", 'sp ace$dollar\\back`tick"', "ünï😀"];
  return [
    "staging",
    "production",
    "mina-audio-staging",
    "us-east-1",
    "#mina-staging-alerts",
    "#mina-alerts",
    "https://staging.mina.app",
    "https://mina.app",
    "true",
    "false",
    "INFO",
    "DEBUG",
    "100",
    "2000",
    "",
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY+/=",
    randomBytes(32).toString("hex"),
    randomBytes(32).toString("hex"),
    ...passwords.map((password) =>
      buildDatabaseUrl({
        user: "mina_staging_app",
        password,
        host: "mina-staging.abc123.us-east-1.rds.amazonaws.com",
        port: 5432,
        database: "mina_staging",
        sslMode: "require",
      }),
    ),
    ...passwords.map((password) => buildRedisUrl({ password, endpoint: "mina-staging-12345.upstash.io", port: 6379 })),
  ];
}

describe("env file format", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "envfile-format-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe("serializeEnvFile", () => {
    it("writes a comment header, then one KEY=value line per entry in the given order, and a final newline", () => {
      const text = serializeEnvFile({
        stack: "staging",
        generatedAt: GENERATED_AT,
        entries: [
          ["ENVIRONMENT", "staging"],
          ["SLACK_CHANNEL", "#mina-staging-alerts"],
          ["SENTRY_DSN", ""],
          ["GREETING", "it's fine"],
        ],
      });
      assert.equal(
        text,
        [
          "# Mina environment for stack staging",
          "# generated at 2025-01-02T03:04:05.678Z",
          "# generated by npm run env; do not commit: contains secrets",
          "ENVIRONMENT=staging",
          "SLACK_CHANNEL='#mina-staging-alerts'",
          "SENTRY_DSN=",
          `GREETING="it's fine"`,
          "",
        ].join("\n"),
      );
    });

    it("rejects variable names outside ^[A-Z_][A-Z0-9_]*$, naming the key", () => {
      for (const key of ["lower", "1ABC", "A-B", "A B", "", "A=B", "É"]) {
        assert.throws(
          () => serializeEnvFile({ stack: STACK, generatedAt: GENERATED_AT, entries: [[key, "x"]] }),
          (e: Error) => e.message.includes(JSON.stringify(key)) && !e.message.includes("\n"),
        );
      }
    });

    it("rejects a variable listed twice", () => {
      assert.throws(
        () =>
          serializeEnvFile({
            stack: STACK,
            generatedAt: GENERATED_AT,
            entries: [
              ["A", "1"],
              ["A", "2"],
            ],
          }),
        /variable A is listed twice/,
      );
    });
  });

  describe("assertSerializable", () => {
    const unwritable = ["two\nlines", "carriage\rreturn", "windows\r\nline", "nul\0byte", "lone \ud800 surrogate"];

    it("refuses values no quoting can carry with a one-line message that names the key, never the value", () => {
      for (const value of unwritable) {
        assert.throws(
          () => assertSerializable("SECRET_KEY", value),
          (e: Error) => e.message.includes("SECRET_KEY") && !e.message.includes(value) && !e.message.includes("\n"),
        );
        assert.throws(() => serializeEnvFile({ stack: STACK, generatedAt: GENERATED_AT, entries: [["SECRET_KEY", value]] }), /SECRET_KEY/);
        assert.deepEqual(portabilityProblems(value), [...PARSERS]);
      }
    });

    it("accepts every other value", () => {
      for (const value of [...HOSTILE, ...generatedValues()]) assertSerializable("SECRET_KEY", value);
    });
  });

  describe("quoting", () => {
    it("picks per value the quoting the most readers load back", () => {
      const cases: [string, string, Parser[]][] = [
        // value, text after `KEY=`, readers that cannot load it
        ["abc-1.2", "abc-1.2", []],
        ["", "", []],
        ["a b", "'a b'", ["xargs export"]],
        ["#channel", "'#channel'", []],
        ["$(id) `id` $HOME", "'$(id) `id` $HOME'", ["xargs export"]],
        ["${HOME}", "'${HOME}'", ["python-dotenv"]],
        ["a\\\\b", "'a\\\\b'", ["python-dotenv"]],
        ["it's", `"it's"`, []],
        ["it's $5", `"it's \\$5"`, ["python-dotenv", "npm dotenv", "xargs export"]],
        [`a'b"c`, `'a'\\''b"c'`, ["python-dotenv", "npm dotenv"]],
        ["ends\\", "'ends'\\\\", ["python-dotenv", "npm dotenv"]],
      ];
      for (const [value, text, problems] of cases) {
        const q = quoteValue(value);
        assert.equal(q.text, text, `quoting of ${JSON.stringify(value)}`);
        assert.deepEqual(portabilityProblems(value), problems, `problems of ${JSON.stringify(value)}`);
      }
    });

    it("every reader loads every hostile value back exactly, unless portabilityProblems names it, and then it really does not", () => {
      assertRoundTrip(dir, HOSTILE, "HOSTILE");
    });

    it("the same holds for random values over an alphabet of quoting characters", () => {
      const alphabet = [..."ab ' \" \\ $ { } ( ) ` # = : - \t ! * ? [ ] ~ & ; | < > n r é 😀 \u2028 \u00a0"].filter((c) => c !== " ");
      alphabet.push(" ", "${X}", "${HOME}", "\\n", "$$");
      let seed = 20250102;
      const random = () => {
        // mulberry32: reproducible, so a failure can be replayed
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
      const values = Array.from({ length: 400 }, () =>
        Array.from({ length: 1 + Math.floor(random() * 8) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(""),
      );
      assertRoundTrip(dir, values, "RANDOM");
    });

    it("values the program generates have no problems and load exactly everywhere", () => {
      const values = generatedValues();
      for (const value of values) assert.deepEqual(portabilityProblems(value), [], `problems of ${JSON.stringify(value)}`);
      assertRoundTrip(dir, values, "GENERATED");
    });

    it("does not count xargs globbing: `*` changes only if a file named KEY=... is in the working directory", () => {
      const text = serializeEnvFile({ stack: STACK, generatedAt: GENERATED_AT, entries: [["GLOB", "a*"]] });
      assert.equal(loadWithEveryParser(dir, text, ["GLOB"])["xargs export"].GLOB, "a*");
      mkdirSync(join(dir, "GLOB=abc"));
      assert.equal(loadWithEveryParser(dir, text, ["GLOB"])["xargs export"].GLOB, "abc");
    });
  });

  describe("parseEnvFile", () => {
    it("reads back every value npm dotenv can carry, as verify and audit do", () => {
      const values = [...HOSTILE, ...generatedValues()].filter((v) => !portabilityProblems(v).includes("npm dotenv"));
      const entries = values.map((v, i): [string, string] => [`V${i}`, v]);
      assert.deepEqual(parseEnvFile(serializeEnvFile({ stack: STACK, generatedAt: GENERATED_AT, entries })), Object.fromEntries(entries));
    });

    it("ignores the header comments", () => {
      assert.deepEqual(parseEnvFile(serializeEnvFile({ stack: STACK, generatedAt: GENERATED_AT, entries: [] })), {});
    });
  });
});
