/**
 * Example and placeholder values in a stack file: the values a documentation page,
 * a template or this repository's own examples use, which plan offline but would
 * deploy against someone else's account, zone or address. `doctor` reports them, and
 * the deploy workflow refuses a stack that still holds one, before anything else.
 *
 * Deny by default where it can be decided offline: every string of the stack file
 * (secrets aside: their plaintext is not read) is checked against each rule. Hosts
 * that resolve only inside a network (`.internal`) are checked by a resolver the
 * caller gives: a name that does not resolve there is a placeholder.
 */
import { isIP } from "node:net";
import type { RawStackConfig } from "../config/raw";
import { SecureValue } from "../config/raw";

export interface Placeholder {
  readonly key: string;
  /** The value as written (never a secret: secrets are not read). */
  readonly value: string;
  readonly why: string;
}

/** Account ids AWS's documentation uses, and this repository's own examples. */
const EXAMPLE_ACCOUNTS = new Set([
  "123456789012",
  "111122223333",
  "444455556666",
  "777788889999",
  "555555555555",
  "210987654321",
  "345678901234",
  "012345678901",
  "098765432109",
]);

/** RFC 5737 and RFC 3849: addresses reserved for documentation. */
const DOCUMENTATION_V4 = [
  [192, 0, 2],
  [198, 51, 100],
  [203, 0, 113],
];

/** A 12-digit id made of one digit, or of a run of consecutive digits (ascending or descending, wrapping). */
function patterned(digits: string): boolean {
  if (/^(\d)\1{11}$/.test(digits)) return true;
  const d = [...digits].map(Number);
  const step = (d[1] - d[0] + 10) % 10;
  return (step === 1 || step === 9) && d.every((x, i) => i === 0 || (x - d[i - 1] + 10) % 10 === step);
}

/** Why a single string is an example value, or undefined. */
export function placeholderReason(value: string): string | undefined {
  const v = value.trim();
  const lower = v.toLowerCase();
  if (/example/i.test(v) && !/@/.test(v)) return "holds EXAMPLE: a documentation placeholder";
  if (/^\d{12}$/.test(v) && (EXAMPLE_ACCOUNTS.has(v) || patterned(v))) return "is an example AWS account id (from documentation or this repository's examples)";
  for (const m of v.matchAll(/\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/\d{1,2})?\b/g)) {
    const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (DOCUMENTATION_V4.some(([x, y, z]) => a === x && b === y && c === z))
      return `${m[0]} is in a range reserved for documentation (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24)`;
  }
  if (isIP(lower.replace(/\/\d+$/, "")) === 6 && /^2001:0?db8:/.test(lower)) return "is in 2001:db8::/32, reserved for documentation";
  const host = lower
    .replace(/^[a-z][a-z0-9+.-]*:\/\//, "")
    .replace(/^[^@/]*@/, "")
    .split(/[/:?#]/)[0];
  if (/(^|\.)(example\.(com|org|net)|example|test|invalid|localhost)$/.test(host) && host.includes("."))
    return `${host} is a domain reserved for documentation and tests (RFC 2606)`;
  if (/^(vpc|subnet|sg|igw)-/.test(lower) && /0a1b2c3d4e5f|x{4,}|0{8,}/.test(lower)) return "is an example resource id";
  if (/^(changeme|placeholder|todo|tbd|xxx+|your[-_].*)$/i.test(v)) return "is a placeholder word";
  return undefined;
}

/** Every string of a raw value, with its path below the key (`[0]`, `.name`). */
function strings(value: unknown, at = ""): [string, string][] {
  if (value instanceof SecureValue) return [];
  if (typeof value === "string") return [[at, value]];
  if (typeof value === "number") return [[at, String(value)]];
  if (Array.isArray(value)) return value.flatMap((x, i) => strings(x, `${at}[${i}]`));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, x]) => strings(x, `${at}.${k}`));
  return [];
}

/** The example values of a stack file, offline (no name is resolved). */
export function placeholders(raw: RawStackConfig): Placeholder[] {
  const out: Placeholder[] = [];
  for (const [key, value] of Object.entries(raw.values)) {
    for (const [at, s] of strings(value)) {
      const why = placeholderReason(s);
      if (why !== undefined) out.push({ key: `${key}${at}`, value: s, why });
    }
  }
  return out;
}

/** Host names a stack file points at that resolve only inside a network. */
export function internalHosts(raw: RawStackConfig): { key: string; host: string }[] {
  const out: { key: string; host: string }[] = [];
  for (const key of ["mina:dbServerHost", "mina:appHost"]) {
    const v = raw.values[key];
    if (typeof v === "string" && /(^|\.)internal(\.|$)/i.test(v.trim())) out.push({ key, host: v.trim().toLowerCase() });
  }
  return out;
}
