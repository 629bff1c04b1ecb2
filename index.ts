/**
 * The Pulumi program: load and validate this stack's config, then declare one
 * isolated environment. A config problem stops the run with its one-line
 * messages before any resource is declared.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, ConfigErrors, loadStackFromEngine } from "./config";
import { defineEnvironment } from "./components/environment";

/** The engine marks which config keys are secret; this SDK function exists but is not in its typings. */
const isConfigSecret = (pulumi.runtime as unknown as { isConfigSecret(key: string): boolean }).isConfigSecret;

function load() {
  try {
    return loadStackFromEngine(__dirname, pulumi.getStack(), pulumi.runtime.allConfig(), isConfigSecret).config;
  } catch (e) {
    if (e instanceof ConfigErrors || e instanceof ConfigError) throw new pulumi.RunError(`invalid stack config:\n${e.message}`);
    // Anything else while reading the project's files is still one line, never a stack trace.
    throw new pulumi.RunError(`cannot read the stack config: ${String((e as Error)?.message ?? e).split("\n")[0]}`);
  }
}

const outputs = defineEnvironment(load());

export const env = outputs.env;
export const environment = outputs.environment;
export const profile = outputs.profile;
export const awsAccountIds = outputs.awsAccountIds;
export const databaseMode = outputs.databaseMode;
export const databaseName = outputs.databaseName;
export const bucketName = outputs.bucketName;
export const redisDatabaseName = outputs.redisDatabaseName;
export const appEnvSecretName = outputs.appEnvSecretName;
export const shareUrl = outputs.shareUrl;
export const dnsNames = outputs.dnsNames;
