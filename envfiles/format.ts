/**
 * The developer env file (`.env.<stack>.local`): how it is written and read.
 *
 * People load these files four ways, and each reader has its own idea of quoting:
 *
 * - `python-dotenv` (the Flask app, `dotenv_values` / `load_dotenv`): single quotes
 *   decode `\\` and `\'`; double quotes decode `\\ \' \" \a \b \f \n \r \t \v` and
 *   keep every other backslash; `${NAME}` and `${NAME:-default}` are expanded in
 *   every kind of value, quoted or not, with no escape.
 * - npm `dotenv` (`dotenv.parse`, used by `verify` and `audit` through {@link parseEnvFile}):
 *   strips one pair of surrounding quotes and keeps everything between them byte
 *   for byte, except that `\n` and `\r` become line breaks inside double quotes.
 * - `bash source`: `set -a; . ./.env.<stack>.local; set +a`, i.e. shell quoting.
 * - `xargs export`: `export $(cat FILE | grep -v '^#' | xargs)`. xargs removes the
 *   quotes (a backslash escapes outside quotes, is literal inside them, an unmatched
 *   quote aborts the whole file), then bash splits the result on spaces and tabs.
 *
 * Each value is written in the quoting style that the most of them load back
 * exactly (see {@link quoteValue}); {@link portabilityProblems} names the readers
 * that still cannot, so the exporter can warn. The rules are proven against the
 * real readers by tests/envfile-format.test.ts.
 */
import { parse as dotenvParse } from "dotenv";

/** The readers an env file is written for, most important first (the app, then our own tools). */
export const PARSERS = ["python-dotenv", "npm dotenv", "bash source", "xargs export"] as const;
export type Parser = (typeof PARSERS)[number];

/** Variable names: what every reader accepts and what a shell can export. */
export const KEY_PATTERN = /^[A-Z_][A-Z0-9_]*$/;

/** Characters that need no quoting for any reader (no `&`: it ends a shell command). */
const PLAIN = /^[A-Za-z0-9_./:@%+,=?-]*$/;

/** python-dotenv's own interpolation pattern (dotenv/variables.py): expanded even inside single quotes. */
const PYTHON_INTERPOLATION = /\$\{[^}:]*(?::-[^}]*)?\}/;

/** What `export $(... | xargs)` splits words on (bash's default IFS; line breaks are refused anyway). */
const SHELL_BLANK = /[ \t]/;

/** Line breaks end a line for every reader; NUL ends a C string; lone surrogates are not UTF-8. */
const UNWRITABLE: readonly (readonly [RegExp, string])[] = [
  [/[\n\r]/, "a line break"],
  [/\0/, "a NUL character"],
  [/\p{Cs}/u, "an unpaired UTF-16 surrogate (not valid Unicode)"],
];

/**
 * How a value is written after `KEY=`:
 * - `plain`: as is, when it has only characters no reader treats specially;
 * - `single`: `'value'`, when it has no `'` and does not end in `\`;
 * - `double`: `"value"` with `\ " $ \`` escaped for the shell, when it has no `"` and does not end in `\`;
 * - `word`: shell word of `'...'` runs with `'` and `\` written as `\'` and `\\` (only the shells read it).
 * A trailing `\` would escape the closing quote for python-dotenv, which then reads on
 * into the following lines; an escaped `"` inside double quotes is an unmatched quote
 * for xargs, which then drops the rest of the file. Neither style is used for such values.
 */
export type QuotingStyle = "plain" | "single" | "double" | "word";

export interface Quoted {
  readonly style: QuotingStyle;
  /** What follows `KEY=` on the line. */
  readonly text: string;
  /** The readers that do not load this text back as the original value. */
  readonly problems: readonly Parser[];
}

/** Throws when `key` is not a valid variable name; the message names the key. */
export function assertKey(key: string): void {
  if (!KEY_PATTERN.test(key)) {
    throw new Error(`env file: invalid variable name ${JSON.stringify(key)} (must match ${KEY_PATTERN.source})`);
  }
}

/** Why no quoting can carry `value`, or undefined when it can be written. */
function unwritableReason(value: string): string | undefined {
  return UNWRITABLE.find(([re]) => re.test(value))?.[1];
}

/**
 * Throws when `key` is not a valid name or `value` cannot be written to an env file
 * at all (line breaks, NUL, invalid Unicode). The one-line message names the key, never the value.
 */
export function assertSerializable(key: string, value: string): void {
  assertKey(key);
  const reason = unwritableReason(value);
  if (reason !== undefined) throw new Error(`env file: the value of ${key} contains ${reason}, which no env file quoting can carry`);
}

const problems = (entries: readonly [Parser, boolean][]): Parser[] => entries.filter(([, bad]) => bad).map(([p]) => p);

/** Every style that can write `value` safely, with the readers each one fails. */
function candidates(value: string): Quoted[] {
  const list: Quoted[] = [];
  const interpolated = PYTHON_INTERPOLATION.test(value);
  const blank = SHELL_BLANK.test(value);
  const endsWithBackslash = value.endsWith("\\");

  if (PLAIN.test(value)) list.push({ style: "plain", text: value, problems: [] });

  if (!value.includes("'") && !endsWithBackslash) {
    list.push({
      style: "single",
      text: `'${value}'`,
      problems: problems([
        ["python-dotenv", interpolated || value.includes("\\\\")], // `\\` decodes to `\`
        ["xargs export", blank],
      ]),
    });
  }

  if (!value.includes('"') && !endsWithBackslash) {
    const escaped = value.replace(/[\\"$`]/g, (c) => `\\${c}`);
    list.push({
      style: "double",
      text: `"${escaped}"`,
      problems: problems([
        ["python-dotenv", /[$`]/.test(value)], // keeps the backslash of `\$` and `` \` ``
        ["npm dotenv", /[\\$`]/.test(value)], // keeps every backslash
        ["xargs export", blank || /[\\$`]/.test(value)], // keeps backslashes inside quotes
      ]),
    });
  }

  const word = value.replace(/[^'\\]+|['\\]/g, (run) => (run === "'" || run === "\\" ? `\\${run}` : `'${run}'`));
  list.push({
    style: "word",
    text: word === "" ? "''" : word,
    problems: problems([
      ["python-dotenv", true],
      ["npm dotenv", true],
      ["xargs export", blank],
    ]),
  });
  return list;
}

/** Lower is better: fewer failing readers first, then failing the less important ones. */
const cost = (q: Quoted) => q.problems.length * 100 + q.problems.reduce((sum, p) => sum + (PARSERS.length - PARSERS.indexOf(p)), 0);

/**
 * The quoting of `value` that the most readers load back exactly; on a tie, the one
 * that keeps the more important readers (python-dotenv, then npm dotenv, then bash).
 * Throws for values no quoting can carry (see {@link assertSerializable}).
 */
export function quoteValue(value: string): Quoted {
  const reason = unwritableReason(value);
  if (reason !== undefined) throw new Error(`env file: a value contains ${reason}, which no env file quoting can carry`);
  let best: Quoted | undefined;
  for (const q of candidates(value)) if (best === undefined || cost(q) < cost(best)) best = q;
  return best!;
}

/**
 * The readers that cannot load `value` back exactly from a file written by
 * {@link serializeEnvFile}, in {@link PARSERS} order. Empty for every value the
 * program generates. All readers for values that cannot be written at all.
 *
 * Not counted: `xargs export` also expands `*`, `?` and `[...]` against file names,
 * which changes a value only when the working directory holds a file whose name
 * starts with `KEY=`.
 */
export function portabilityProblems(value: string): Parser[] {
  if (unwritableReason(value) !== undefined) return [...PARSERS];
  return [...quoteValue(value).problems];
}

export interface EnvFileContent {
  readonly stack: string;
  /** When the file was written; none for text stored by `pulumi up`, which must not change between runs. */
  readonly generatedAt?: Date;
  /** Variable name and value pairs, written in this order. */
  readonly entries: readonly (readonly [string, string])[];
  /** The command named in the header (default `npm run env`). */
  readonly generatedBy?: string;
}

/** The text of an env file: a comment header, then `KEY=value` lines, then a newline. */
export function serializeEnvFile(opts: EnvFileContent): string {
  if (/[\n\r\0]/.test(opts.stack)) throw new Error(`env file: invalid stack name ${JSON.stringify(opts.stack)}`);
  const generatedBy = opts.generatedBy ?? "npm run env";
  if (/[\n\r\0]/.test(generatedBy)) throw new Error(`env file: invalid generator ${JSON.stringify(generatedBy)}`);
  const lines = [
    `# Mina environment for stack ${opts.stack}`,
    ...(opts.generatedAt ? [`# generated at ${opts.generatedAt.toISOString()}`] : []),
    `# generated by ${generatedBy}; do not commit: contains secrets`,
  ];
  const seen = new Set<string>();
  for (const [key, value] of opts.entries) {
    assertSerializable(key, value);
    if (seen.has(key)) throw new Error(`env file: variable ${key} is listed twice`);
    seen.add(key);
    lines.push(`${key}=${quoteValue(value).text}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Reads an env file the way npm `dotenv` does (what `verify` and `audit` compare against). */
export function parseEnvFile(text: string): Record<string, string> {
  return { ...dotenvParse(text) };
}
