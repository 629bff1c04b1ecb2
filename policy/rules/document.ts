/**
 * IAM / bucket policy documents as resources carry them: a JSON string (as the
 * program declares them) or an object. Keys are read as AWS writes them.
 */
import { isRecord, isUnknown, listOf } from "./types";

export interface Statement {
  /** `Sid`, or the statement's position (`#1`) when it has none: for messages. */
  readonly label: string;
  readonly effect: string;
  readonly principal: unknown;
  readonly actions: readonly string[];
  readonly notActions: readonly string[];
  readonly resources: readonly string[];
  readonly notResources: readonly string[];
  readonly condition: Record<string, unknown>;
}

export type ParsedDocument =
  | { readonly kind: "ok"; readonly statements: readonly Statement[] }
  | { readonly kind: "unknown" }
  | { readonly kind: "missing" }
  | { readonly kind: "invalid"; readonly reason: string };

const strings = (v: unknown) => listOf(v).filter((x): x is string => typeof x === "string");

/** Parses a policy document. Unknown (preview) and missing documents are told apart from invalid ones. */
export function parseDocument(v: unknown): ParsedDocument {
  if (isUnknown(v)) return { kind: "unknown" };
  if (v === undefined || v === null || v === "") return { kind: "missing" };
  let doc: unknown = v;
  if (typeof v === "string") {
    try {
      doc = JSON.parse(v);
    } catch {
      return { kind: "invalid", reason: "is not valid JSON" };
    }
  }
  if (!isRecord(doc)) return { kind: "invalid", reason: "is not a JSON object" };
  if (Object.values(doc).some(isUnknown)) return { kind: "unknown" };
  const raw = listOf(doc.Statement);
  if (raw.some(isUnknown)) return { kind: "unknown" };
  const statements: Statement[] = [];
  for (const [i, s] of raw.entries()) {
    if (!isRecord(s)) return { kind: "invalid", reason: `statement #${i + 1} is not an object` };
    statements.push({
      label: typeof s.Sid === "string" && s.Sid !== "" ? `"${s.Sid}"` : `#${i + 1}`,
      effect: typeof s.Effect === "string" ? s.Effect : "",
      principal: s.Principal,
      actions: strings(s.Action),
      notActions: strings(s.NotAction),
      resources: strings(s.Resource),
      notResources: strings(s.NotResource),
      condition: isRecord(s.Condition) ? s.Condition : {},
    });
  }
  return { kind: "ok", statements };
}

/** Reads a condition value case-insensitively: `conditionValues(c, "Bool", "aws:SecureTransport")`. */
export function conditionValues(condition: Record<string, unknown>, operator: string, key: string): string[] {
  const out: string[] = [];
  for (const [op, block] of Object.entries(condition)) {
    if (op.toLowerCase() !== operator.toLowerCase() || !isRecord(block)) continue;
    for (const [k, v] of Object.entries(block)) {
      if (k.toLowerCase() === key.toLowerCase()) out.push(...listOf(v).map((x) => String(x).toLowerCase()));
    }
  }
  return out;
}

/** True when a principal is everyone: `"*"` or `{ "AWS": "*" }`. */
export function isEveryone(principal: unknown): boolean {
  if (principal === "*") return true;
  return isRecord(principal) && listOf(principal.AWS).includes("*");
}

export function s3Arn(bucket: string): string {
  return `arn:aws:s3:::${bucket}`;
}
