import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Front } from "../config/stackConfig";

export interface DnsArgs {
  /** The environment's own share domain. */
  readonly shareDomain: string;
  /** Its own hosted zone. */
  readonly zoneId: string;
  /** IPv4 address (A record) or hostname (CNAME); empty on a blue/green front. */
  readonly appHost: string;
  /** On a blue/green front: the colours the share domain's weighted records point at. */
  readonly front?: Front;
  readonly awsProvider: aws.Provider;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * The set identifiers of the share domain's weighted records. Route53 finds a
 * weighted record by name, type and set identifier, so these never change: the
 * share record is the same record, with the same identifier, before and after
 * its stack becomes a blue/green front, and on every swap.
 */
export const SHARE_SET_IDENTIFIER = "live";
export const CANARY_SET_IDENTIFIER = "canary";

/** The records' arguments, decided in plain code. */
export interface RecordArgs {
  readonly zoneId: string;
  readonly name: string;
  readonly type: "A" | "CNAME";
  readonly setIdentifier: string;
  readonly weightedRoutingPolicies: { weight: number }[];
  readonly ttl?: number;
  readonly records?: string[];
  readonly aliases?: { name: string; zoneId: string; evaluateTargetHealth: boolean }[];
  readonly allowOverwrite: boolean;
}

/**
 * The share domain's record: weighted in every stack, so that Route53 never
 * has to hold a simple record beside weighted ones of the same name and type.
 * Outside a front it carries all the traffic (weight 100) to the app host, as an
 * A record (IPv4) or a CNAME (hostname); on a front it is an A alias of the live
 * colour's record, weighted `100 - canary`.
 */
export function shareRecordArgs(args: Pick<DnsArgs, "shareDomain" | "zoneId" | "appHost" | "front">): RecordArgs {
  const common = { zoneId: args.zoneId, name: args.shareDomain, setIdentifier: SHARE_SET_IDENTIFIER, allowOverwrite: false };
  if (!args.front) {
    return { ...common, type: IPV4.test(args.appHost) ? "A" : "CNAME", ttl: 60, records: [args.appHost], weightedRoutingPolicies: [{ weight: 100 }] };
  }
  const { live, canaryPercent, colours } = args.front;
  return {
    ...common,
    type: "A",
    weightedRoutingPolicies: [{ weight: 100 - canaryPercent }],
    aliases: [{ name: colours[live].host, zoneId: args.zoneId, evaluateTargetHealth: true }],
  };
}

/**
 * A front's second weighted record: an A alias of the other colour's record,
 * weighted `canary` (0 by default: no traffic while the share record has some).
 */
export function canaryRecordArgs(args: Pick<DnsArgs, "shareDomain" | "zoneId"> & { front: Front }): RecordArgs {
  const { live, canaryPercent, colours } = args.front;
  const other = live === "blue" ? "green" : "blue";
  return {
    zoneId: args.zoneId,
    name: args.shareDomain,
    type: "A",
    setIdentifier: CANARY_SET_IDENTIFIER,
    weightedRoutingPolicies: [{ weight: canaryPercent }],
    aliases: [{ name: colours[other].host, zoneId: args.zoneId, evaluateTargetHealth: true }],
    allowOverwrite: false,
  };
}

/**
 * The share domain's weighted records, in the environment's own zone; emits
 * `SHARE_BASE_URL`. `<name>-share` in every stack; on a blue/green front also
 * `<name>-canary`, created after the share record is updated (a CNAME share
 * record must have become an A record before another A record joins it).
 */
export class Dns extends pulumi.ComponentResource {
  readonly shareBaseUrl: string;
  readonly dnsNames: string[];

  constructor(name: string, args: DnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mina:index:Dns", name, {}, opts);
    const child = { parent: this, provider: args.awsProvider };
    const share = new aws.route53.Record(`${name}-share`, shareRecordArgs(args), child);
    if (args.front) new aws.route53.Record(`${name}-canary`, canaryRecordArgs({ ...args, front: args.front }), { ...child, dependsOn: [share] });
    this.shareBaseUrl = `https://${args.shareDomain}`;
    this.dnsNames = [args.shareDomain];
    this.registerOutputs({ shareBaseUrl: this.shareBaseUrl, dnsNames: this.dnsNames });
  }
}
