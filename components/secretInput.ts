import * as pulumi from "@pulumi/pulumi";
import type { Secret } from "../config/stackConfig";

/**
 * A secret config value as a secret Output. Offline (the plan), where the value is
 * ciphertext or not set yet, a placeholder that names the key stands in; it is
 * secret too, and the plan never prints secret values.
 */
export function secretInput(s: Secret): pulumi.Output<string> {
  return pulumi.secret(s.plaintext ?? `<unset:${s.key}>`);
}
