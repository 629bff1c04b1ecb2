/**
 * The anonymization rules of `npm run refresh`: one committed file
 * (`refresh.rules.yaml`) that classifies every column of every table of the
 * source database (every schema but PostgreSQL's own). Strict: a column without
 * a rule, a rule for a column or table that no longer exists, and a mask a column
 * cannot take all stop the refresh before any data moves.
 *
 * Names are written as in SQL: `users` is public.users, `billing.invoices` a
 * table of schema billing, and a name that is not lowercase is double-quoted
 * (`'"UserEvents"'` in YAML, `billing."Invoices"`, a column `'"createdAt"'`).
 */
import * as fs from "node:fs";
import { parse } from "yaml";

export const RULES_FILE = "refresh.rules.yaml";

/** What happens to one column's values. */
export type Mask =
  | { kind: "keep" }
  /** `user_<key>@example.invalid` */
  | { kind: "email" }
  /** A keyed SHA-256 of the value, hex; the key is new on every refresh, so equal values stay equal within one run (uniques and joins hold). */
  | { kind: "hash" }
  | { kind: "constant"; value: string }
  /** A made-up "First Last", chosen from the row's key, never the row's own value. */
  | { kind: "fake_name" }
  | { kind: "null" }
  /** The source's bucket name replaced by the target's in the value (object keys are kept; the objects are not copied). */
  | { kind: "rebucket" }
  /** A generated column (GENERATED ALWAYS AS ... STORED): not copied, the copy computes it from the row's masked columns. */
  | { kind: "generated" };

export const MASK_KINDS = ["keep", "email", "hash", "constant", "fake_name", "null", "rebucket", "generated"] as const;

export interface TableRule {
  /** How the rules and every message name the table: `users`, `billing.invoices`, `"UserEvents"`. */
  readonly table: string;
  readonly schema: string;
  readonly name: string;
  /** Rows are not copied at all. */
  readonly skip: boolean;
  /** The column the row-keyed masks (email, fake_name) read; default `id`. */
  readonly key: string;
  /** By the column's name as PostgreSQL has it. */
  readonly columns: ReadonlyMap<string, Mask>;
}

export interface Rules {
  /** By {@link TableRule.table}. */
  readonly tables: ReadonlyMap<string, TableRule>;
}

export class RulesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RulesError";
  }
}

/** A name that needs no quotes (and the only unquoted form the rules take). */
const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/** A name as SQL writes it: as is when lowercase, else double-quoted. */
export function quoteName(name: string): string {
  return IDENT.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** How rules and messages name a table: unqualified in public, `schema.name` elsewhere. */
export function tableKey(schema: string, name: string): string {
  return schema === "public" ? quoteName(name) : `${quoteName(schema)}.${quoteName(name)}`;
}

/** `table.column`, the column quoted when it needs it. */
export function columnKey(table: string, column: string): string {
  return `${table}.${quoteName(column)}`;
}

/** How to write a name as a key of the YAML file: single-quoted when it holds double quotes. */
export function yamlKey(name: string): string {
  return name.includes('"') ? `'${name.replace(/'/g, "''")}'` : name;
}

/**
 * Parses `name`, `"Name"`, `schema.name` or `"Schema"."Name"` (at most `maxParts`
 * parts) into the names PostgreSQL has; a message saying what to write otherwise.
 */
export function parseName(text: string, maxParts: 1 | 2): string[] | { error: string } {
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let part = "";
      let j = i + 1;
      for (;;) {
        if (j >= text.length) return { error: `${JSON.stringify(text.slice(0, 70))} has an unclosed double quote` };
        if (text[j] === '"') {
          if (text[j + 1] === '"') {
            part += '"';
            j += 2;
            continue;
          }
          break;
        }
        part += text[j];
        j++;
      }
      if (part === "" || Buffer.byteLength(part) > 63) return { error: `${JSON.stringify(text.slice(0, 70))}: a quoted name has 1 to 63 bytes` };
      parts.push(part);
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && text[j] !== "." && text[j] !== '"') j++;
      const part = text.slice(i, j);
      if (!IDENT.test(part)) {
        if (/^[A-Za-z_][A-Za-z0-9_$]*$/.test(part)) {
          const quoted = `${text.slice(0, i)}"${part}"${text.slice(j)}`;
          return { error: `${JSON.stringify(part)} is not lowercase: write ${yamlKey(quoted)} for the name as it is, or ${part.toLowerCase()}` };
        }
        return { error: `${JSON.stringify(text.slice(0, 70))} is not a PostgreSQL name (lowercase, or in double quotes)` };
      }
      parts.push(part);
      i = j;
    }
    if (i === text.length) break;
    if (text[i] !== "." || parts.length >= maxParts)
      return { error: `${JSON.stringify(text.slice(0, 70))} is not ${maxParts === 1 ? "a column name" : "a table name (table or schema.table)"}` };
    i++;
  }
  return parts;
}

function parseMask(where: string, v: unknown): Mask {
  if (typeof v === "string") {
    if (v === "constant") throw new RulesError(`${where}: constant needs a value (write constant: VALUE)`);
    if ((MASK_KINDS as readonly string[]).includes(v)) return { kind: v } as Mask;
    throw new RulesError(`${where}: unknown rule ${JSON.stringify(v.slice(0, 40))} (one of ${MASK_KINDS.join(", ")}, or constant: VALUE)`);
  }
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 1 && entries[0][0] === "constant") {
      const value = entries[0][1];
      if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return { kind: "constant", value: String(value) };
      throw new RulesError(`${where}: constant must be a string, number or boolean`);
    }
  }
  if (v === null) throw new RulesError(`${where}: write null as the string "null" (a rule, not an empty value)`);
  throw new RulesError(`${where}: expected a rule (${MASK_KINDS.join(", ")}) or constant: VALUE`);
}

/** A rule as the rules file writes it. */
export function describeMask(m: Mask): string {
  return m.kind === "constant" ? `constant: ${m.value}` : m.kind;
}

function sameMask(a: Mask, b: Mask): boolean {
  return a.kind === b.kind && (a.kind !== "constant" || a.value === (b as { value: string }).value);
}

/** Parses and checks the shape of a rules document; throws a one-line `RulesError`. */
export function parseRules(text: string, file = RULES_FILE): Rules {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new RulesError(`${file}: not valid YAML (${String((e as Error).message).split("\n")[0]})`);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new RulesError(`${file}: expected a mapping with "tables"`);
  const extra = Object.keys(doc).filter((k) => k !== "tables");
  if (extra.length > 0) throw new RulesError(`${file}: unknown field ${JSON.stringify(extra[0])} (only "tables")`);
  const tablesRaw = (doc as Record<string, unknown>).tables;
  if (!tablesRaw || typeof tablesRaw !== "object" || Array.isArray(tablesRaw))
    throw new RulesError(`${file}: "tables" must be a mapping of table name to its rule`);
  const tables = new Map<string, TableRule>();
  for (const [written, t] of Object.entries(tablesRaw as Record<string, unknown>)) {
    const parsed = parseName(written, 2);
    if (!Array.isArray(parsed)) throw new RulesError(`${file}: table ${parsed.error}`);
    const [schema, name] = parsed.length === 2 ? parsed : ["public", parsed[0]];
    const table = tableKey(schema, name);
    if (tables.has(table)) throw new RulesError(`${file}: table ${table} has two rules (${yamlKey(written)} names it again)`);
    if (t === "skip") {
      tables.set(table, { table, schema, name, skip: true, key: "id", columns: new Map() });
      continue;
    }
    if (!t || typeof t !== "object" || Array.isArray(t))
      throw new RulesError(`${file}: ${table}: expected skip, or a mapping with "columns" (and optionally "key")`);
    const extraT = Object.keys(t).filter((k) => k !== "columns" && k !== "key");
    if (extraT.length > 0) throw new RulesError(`${file}: ${table}: unknown field ${JSON.stringify(extraT[0])} (only "key" and "columns")`);
    const { key: keyRaw = "id", columns } = t as { key?: unknown; columns?: unknown };
    const keyParsed = typeof keyRaw === "string" ? parseName(keyRaw, 1) : { error: "" };
    if (!Array.isArray(keyParsed)) throw new RulesError(`${file}: ${table}.key must be a column name${keyParsed.error ? `: ${keyParsed.error}` : ""}`);
    const key = keyParsed[0];
    if (!columns || typeof columns !== "object" || Array.isArray(columns))
      throw new RulesError(`${file}: ${table}.columns must be a mapping of column name to rule`);
    const cols = new Map<string, Mask>();
    for (const [writtenColumn, rule] of Object.entries(columns as Record<string, unknown>)) {
      const c = parseName(writtenColumn, 1);
      if (!Array.isArray(c)) throw new RulesError(`${file}: ${table}: column ${c.error}`);
      if (cols.has(c[0])) throw new RulesError(`${file}: ${columnKey(table, c[0])} has two rules`);
      cols.set(c[0], parseMask(`${file}: ${columnKey(table, c[0])}`, rule));
    }
    const keyed = [...cols.entries()].find(([, m]) => m.kind === "email" || m.kind === "fake_name");
    if (keyed && !cols.has(key))
      throw new RulesError(
        `${file}: ${columnKey(table, keyed[0])} is ${keyed[1].kind}, which reads the row's key, but ${table} has no column ${quoteName(key)} (set key:)`,
      );
    if (keyed && cols.get(key)?.kind !== "keep") throw new RulesError(`${file}: ${columnKey(table, key)} is the key of row-keyed masks: its rule must be keep`);
    tables.set(table, { table, schema, name, skip: false, key, columns: cols });
  }
  return { tables };
}

export function readRules(file: string, shown = RULES_FILE): Rules {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new RulesError(`cannot read ${shown}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseRules(text, shown);
}

/** One column of a source table, as the catalogs describe it. */
export interface SourceColumn {
  /** The table, as {@link tableKey} names it. */
  readonly table: string;
  readonly column: string;
  /** As PostgreSQL writes the column's type: `text`, `character varying(30)`, `citext`, `public.email_address`. */
  readonly dataType: string;
  readonly nullable: boolean;
  /** Whether the type (a domain's base type) is a string type (text, varchar, char, citext...); default: from dataType. */
  readonly text?: boolean;
  /** The most characters the type takes (varchar(n), char(n), a domain over one). */
  readonly maxLength?: number | null;
  /** The domain the column is declared with, whose constraints the masked values must meet. */
  readonly domain?: string | null;
  /** GENERATED ALWAYS AS (...) STORED: COPY cannot write it. */
  readonly generated?: boolean;
  /** A unique index (or constraint) on this column alone. */
  readonly unique?: boolean;
  /** The tables (table inheritance, not partitions) this column is inherited from. */
  readonly inheritedFrom?: readonly string[];
}

/** A table of the source: plain, partitioned, or a partition (whose rows follow its root's rule). */
export interface SourceTable {
  readonly table: string;
  readonly schema: string;
  readonly name: string;
  readonly kind: "table" | "partitioned" | "partition";
  /** The partitioned table at the top of a partition's tree. */
  readonly root?: string;
}

const TEXT_TYPES = new Set(["text", "character varying", "character"]);
const isText = (c: SourceColumn) => c.text ?? TEXT_TYPES.has(c.dataType.replace(/\(\d+\)$/, ""));

/** The made-up names of fake_name; the longest is what a column must take. */
export const FAKE_FIRST = ["Alex", "Sam", "Robin", "Jo", "Kim", "Noor", "Lee", "Ari", "Dana", "Eli", "Rene", "Toni", "Jules", "Max", "Sasha", "Yael"];
export const FAKE_LAST = [
  "Archer",
  "Baker",
  "Carter",
  "Dalton",
  "Ellis",
  "Fisher",
  "Grant",
  "Hayes",
  "Iverson",
  "Jensen",
  "Keller",
  "Lowe",
  "Moreno",
  "Nash",
  "Okafor",
  "Price",
];
export const FAKE_NAME_MAX = Math.max(...FAKE_FIRST.map((f) => f.length)) + 1 + Math.max(...FAKE_LAST.map((l) => l.length));

/** How many characters a mask writes at most, where that does not depend on the data (email does: the engine asks). */
export function staticMaskLength(m: Mask): number | undefined {
  switch (m.kind) {
    case "hash":
      return 64;
    case "fake_name":
      return FAKE_NAME_MAX;
    case "constant":
      return [...m.value].length;
    default:
      return undefined;
  }
}

/**
 * Compares the source's schema with the rules; returns the problems, one line
 * each, in a stable order (empty: every column is classified and every mask fits
 * the column as far as the schema alone tells). `tables` adds what columns alone
 * do not say: partitions, and tables without columns.
 */
export function checkRulesAgainstSchema(rules: Rules, columns: readonly SourceColumn[], tables: readonly SourceTable[] = []): string[] {
  const problems: string[] = [];
  const byTable = new Map<string, SourceColumn[]>();
  for (const t of tables) byTable.set(t.table, []);
  for (const c of columns) byTable.set(c.table, [...(byTable.get(c.table) ?? []), c]);
  const info = new Map(tables.map((t) => [t.table, t]));
  for (const [table, cols] of [...byTable.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const rule = rules.tables.get(table);
    const t = info.get(table);
    if (t?.kind === "partition") {
      if (rule) problems.push(`table ${table} is a partition of ${t.root}: its rows follow ${t.root}'s rule (remove ${table} from ${RULES_FILE})`);
      continue;
    }
    if (!rule) {
      problems.push(
        `table ${table} has no rule (add it to ${RULES_FILE}${table.includes('"') ? ` as ${yamlKey(table)}` : ""}: skip, or a rule for each column)`,
      );
      continue;
    }
    if (rule.skip) continue;
    for (const c of cols) {
      const where = columnKey(table, c.column);
      const mask = rule.columns.get(c.column);
      if (!mask) {
        problems.push(`${where} has no rule`);
        continue;
      }
      if (c.generated) {
        if (mask.kind !== "generated") problems.push(`${where} is a generated column (the copy computes it from the row's masked columns): write generated`);
        continue;
      }
      if (mask.kind === "generated") {
        problems.push(`${where} is not a generated column: generated is only for GENERATED ALWAYS AS (...) STORED columns`);
        continue;
      }
      if (mask.kind === "null" && !c.nullable) problems.push(`${where} is NOT NULL: its rule cannot be null`);
      if ((mask.kind === "email" || mask.kind === "hash" || mask.kind === "fake_name" || mask.kind === "rebucket") && !isText(c)) {
        problems.push(`${where} is ${c.dataType}: ${mask.kind} needs a text column`);
        continue;
      }
      if (c.unique && (mask.kind === "fake_name" || mask.kind === "constant")) {
        problems.push(
          mask.kind === "constant"
            ? `${where} has a unique index, and a constant gives every row the same value: write hash, null or email`
            : `${where} has a unique index, and fake_name repeats its 256 names: write hash or email`,
        );
      }
      const length = staticMaskLength(mask);
      if (length !== undefined && c.maxLength != null && length > c.maxLength) {
        problems.push(
          mask.kind === "constant"
            ? `${where} is ${c.dataType}, and its constant has ${length} characters: write a shorter one`
            : `${where} is ${c.dataType}, and ${mask.kind} writes up to ${length} characters: write a rule whose values fit (constant: VALUE, null) or widen the column`,
        );
      }
      // Inherited columns: what `SELECT ... FROM parent` shows of the child's rows is masked as the parent's own.
      for (const parent of c.inheritedFrom ?? []) {
        const theirs = rules.tables.get(parent);
        const m = theirs && !theirs.skip ? theirs.columns.get(c.column) : undefined;
        if (m && !sameMask(m, mask)) problems.push(`${where} is inherited from ${parent}, whose rule for it is ${describeMask(m)}: write the same rule`);
      }
    }
    const present = new Set(cols.map((c) => c.column));
    for (const column of rule.columns.keys()) if (!present.has(column)) problems.push(`${columnKey(table, column)} has a rule but no longer exists`);
  }
  for (const table of [...rules.tables.keys()].sort()) if (!byTable.has(table)) problems.push(`table ${table} has a rule but does not exist in the source`);
  return problems;
}
