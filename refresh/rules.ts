/**
 * The anonymization rules of `npm run refresh`: one committed file
 * (`refresh.rules.yaml`) that classifies every column of every table of the
 * source's `public` schema. Strict: a column without a rule, a rule for a column
 * or table that no longer exists, and a mask a column cannot take all stop the
 * refresh before any data moves.
 */
import * as fs from "fs";
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
  /** A made-up "First Last", chosen from the row's key. */
  | { kind: "fake_name" }
  | { kind: "null" }
  /** The source's bucket name replaced by the target's in the value (object keys are kept; the objects are not copied). */
  | { kind: "rebucket" };

export const MASK_KINDS = ["keep", "email", "hash", "constant", "fake_name", "null", "rebucket"] as const;

export interface TableRule {
  readonly table: string;
  /** Rows are not copied at all. */
  readonly skip: boolean;
  /** The column the row-keyed masks (email, fake_name) read; default `id`. */
  readonly key: string;
  readonly columns: ReadonlyMap<string, Mask>;
}

export interface Rules {
  readonly tables: ReadonlyMap<string, TableRule>;
}

export class RulesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RulesError";
  }
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

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
  if (!tablesRaw || typeof tablesRaw !== "object" || Array.isArray(tablesRaw)) throw new RulesError(`${file}: "tables" must be a mapping of table name to its rule`);
  const tables = new Map<string, TableRule>();
  for (const [table, t] of Object.entries(tablesRaw as Record<string, unknown>)) {
    if (!IDENT.test(table)) throw new RulesError(`${file}: table name ${JSON.stringify(table.slice(0, 64))} is not a lowercase PostgreSQL name`);
    if (t === "skip") {
      tables.set(table, { table, skip: true, key: "id", columns: new Map() });
      continue;
    }
    if (!t || typeof t !== "object" || Array.isArray(t)) throw new RulesError(`${file}: ${table}: expected skip, or a mapping with "columns" (and optionally "key")`);
    const extraT = Object.keys(t).filter((k) => k !== "columns" && k !== "key");
    if (extraT.length > 0) throw new RulesError(`${file}: ${table}: unknown field ${JSON.stringify(extraT[0])} (only "key" and "columns")`);
    const { key = "id", columns } = t as { key?: unknown; columns?: unknown };
    if (typeof key !== "string" || !IDENT.test(key)) throw new RulesError(`${file}: ${table}.key must be a column name`);
    if (!columns || typeof columns !== "object" || Array.isArray(columns)) throw new RulesError(`${file}: ${table}.columns must be a mapping of column name to rule`);
    const cols = new Map<string, Mask>();
    for (const [column, rule] of Object.entries(columns as Record<string, unknown>)) {
      if (!IDENT.test(column)) throw new RulesError(`${file}: ${table}: column name ${JSON.stringify(column.slice(0, 64))} is not a lowercase PostgreSQL name`);
      cols.set(column, parseMask(`${file}: ${table}.${column}`, rule));
    }
    const keyed = [...cols.entries()].find(([, m]) => m.kind === "email" || m.kind === "fake_name");
    if (keyed && !cols.has(key)) throw new RulesError(`${file}: ${table}.${keyed[0]} is ${keyed[1].kind}, which reads the row's key, but ${table} has no column ${key} (set key:)`);
    if (keyed && cols.get(key)?.kind !== "keep") throw new RulesError(`${file}: ${table}.${key} is the key of row-keyed masks: its rule must be keep`);
    tables.set(table, { table, skip: false, key, columns: cols });
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

/** One column of the source's public schema. */
export interface SourceColumn {
  readonly table: string;
  readonly column: string;
  readonly dataType: string;
  readonly nullable: boolean;
}

const TEXT_TYPES = new Set(["text", "character varying", "character"]);

/**
 * Compares the source's schema with the rules; returns the problems, one line
 * each, in a stable order (empty: every column is classified and every mask fits).
 */
export function checkRulesAgainstSchema(rules: Rules, columns: readonly SourceColumn[]): string[] {
  const problems: string[] = [];
  const byTable = new Map<string, SourceColumn[]>();
  for (const c of columns) byTable.set(c.table, [...(byTable.get(c.table) ?? []), c]);
  for (const [table, cols] of [...byTable.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const rule = rules.tables.get(table);
    if (!rule) {
      problems.push(`table ${table} has no rule (add it to ${RULES_FILE}: skip, or a rule for each column)`);
      continue;
    }
    if (rule.skip) continue;
    for (const c of cols) {
      const mask = rule.columns.get(c.column);
      if (!mask) {
        problems.push(`${table}.${c.column} has no rule`);
        continue;
      }
      if (mask.kind === "null" && !c.nullable) problems.push(`${table}.${c.column} is NOT NULL: its rule cannot be null`);
      if ((mask.kind === "email" || mask.kind === "hash" || mask.kind === "fake_name" || mask.kind === "rebucket") && !TEXT_TYPES.has(c.dataType)) {
        problems.push(`${table}.${c.column} is ${c.dataType}: ${mask.kind} needs a text column`);
      }
    }
    const present = new Set(cols.map((c) => c.column));
    for (const column of rule.columns.keys()) if (!present.has(column)) problems.push(`${table}.${column} has a rule but no longer exists`);
  }
  for (const table of [...rules.tables.keys()].sort()) if (!byTable.has(table)) problems.push(`table ${table} has a rule but does not exist in the source`);
  return problems;
}

/** Whether a mask changes values (the check looks for source values left behind in these). */
export function isMasking(m: Mask): boolean {
  return m.kind !== "keep";
}
