import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Front } from "../config/validate";

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

/** The record's arguments, decided in plain code. */
export function shareRecordArgs(args: Pick<DnsArgs, "shareDomain" | "zoneId" | "appHost">) {
  return {
    zoneId: args.zoneId,
    name: args.shareDomain,
    type: IPV4.test(args.appHost) ? "A" : "CNAME",
    ttl: 60,
    records: [args.appHost],
    allowOverwrite: false,
  };
}

/**
 * A blue/green front's two weighted alias records: the share domain answers with
 * the live colour's record for `100 - canary` parts of the queries and the other
 * colour's for `canary` parts (weight 0 takes no traffic while the other has some).
 */
export function frontRecordArgs(args: Pick<DnsArgs, "shareDomain" | "zoneId"> & { front: Front }) {
  const { live, canaryPercent, colours } = args.front;
  return (["blue", "green"] as const).map((colour) => ({
    colour,
    args: {
      zoneId: args.zoneId,
      name: args.shareDomain,
      type: "A",
      setIdentifier: colour,
      weightedRoutingPolicies: [{ weight: colour === live ? 100 - canaryPercent : canaryPercent }],
      aliases: [{ name: colours[colour].host, zoneId: args.zoneId, evaluateTargetHealth: true }],
      allowOverwrite: false,
    },
  }));
}

/** The share domain's record(s), in the environment's own zone; emits `SHARE_BASE_URL`. */
export class Dns extends pulumi.ComponentResource {
  readonly shareBaseUrl: string;
  readonly dnsNames: string[];

  constructor(name: string, args: DnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mina:index:Dns", name, {}, opts);
    const child = { parent: this, provider: args.awsProvider };
    if (args.front) {
      for (const r of frontRecordArgs({ ...args, front: args.front })) new aws.route53.Record(`${name}-front-${r.colour}`, r.args, child);
    } else {
      new aws.route53.Record(`${name}-share`, shareRecordArgs(args), child);
    }
    this.shareBaseUrl = `https://${args.shareDomain}`;
    this.dnsNames = [args.shareDomain];
    this.registerOutputs({ shareBaseUrl: this.shareBaseUrl, dnsNames: this.dnsNames });
  }
}
