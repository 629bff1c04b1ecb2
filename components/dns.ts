import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface DnsArgs {
  /** The environment's own share domain. */
  readonly shareDomain: string;
  /** Its own hosted zone. */
  readonly zoneId: string;
  /** IPv4 address (A record) or hostname (CNAME). */
  readonly appHost: string;
  readonly awsProvider: aws.Provider;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** The record's arguments, decided in plain code. */
export function shareRecordArgs(args: Pick<DnsArgs, "shareDomain" | "zoneId" | "appHost">) {
  return {
    zoneId: args.zoneId,
    name: args.shareDomain,
    type: IPV4.test(args.appHost) ? "A" : "CNAME",
    ttl: 300,
    records: [args.appHost],
    allowOverwrite: false,
  };
}

/** The share domain's record, in the environment's own zone; emits `SHARE_BASE_URL`. */
export class Dns extends pulumi.ComponentResource {
  readonly shareBaseUrl: string;
  readonly dnsNames: string[];

  constructor(name: string, args: DnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mina:index:Dns", name, {}, opts);
    new aws.route53.Record(`${name}-share`, shareRecordArgs(args), { parent: this, provider: args.awsProvider });
    this.shareBaseUrl = `https://${args.shareDomain}`;
    this.dnsNames = [args.shareDomain];
    this.registerOutputs({ shareBaseUrl: this.shareBaseUrl, dnsNames: this.dnsNames });
  }
}
