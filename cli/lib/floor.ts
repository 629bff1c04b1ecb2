/**
 * The benchmark's floor: loads the same SDK and providers as the plan, under the
 * same mock runtime, and declares nothing.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as postgresql from "@pulumi/postgresql";
import * as random from "@pulumi/random";
import * as upstash from "@upstash/pulumi";
import * as sentry from "@pulumiverse/sentry";
import { runUnderMocks } from "../../plan/mockRuntime";

void [aws, postgresql, random, upstash, sentry];
runUnderMocks("mina", "floor", () => pulumi.output("nothing")).then(() => process.stdout.write("{}\n"));
