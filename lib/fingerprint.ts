import { createHash } from "node:crypto";

/** A short, one-way fingerprint of a value, to tell values apart without showing them. */
export function fingerprint(value: string): string {
  return `sha256:${createHash("sha256").update(value).digest("hex").slice(0, 8)}`;
}
