/**
 * The `mina-isolation` policy pack: `pulumi preview --policy-pack policy`.
 * Constructing the PolicyPack starts the analyzer's gRPC server for the engine, so
 * nothing but the engine's policy runner loads this file; tests load ./policies.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, packArgs } from "./policies";

new PolicyPack(PACK_NAME, packArgs);
