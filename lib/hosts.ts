/**
 * Host names and addresses, one normaliser for every side that compares them
 * (config checks, audit, verify --against): two spellings of one server compare
 * equal, wherever that is knowable offline.
 *
 * A wildcard DNS service answers for any name under its domain with the address
 * the name spells out (`10.0.0.1.nip.io`, `10-0-0-1.sslip.io`, `app-0a000001.nip.io`
 * and `--1.sslip.io` for `::1`), or always with the loopback address
 * (`localtest.me`, `lvh.me`). Such a name is that address, whatever it looks like:
 * another environment's address must not come back under a name.
 */
import { isIP } from "node:net";
import { isLoopbackHost } from "./loopback";

/** A host name as DNS compares it: case-folded, without the root's trailing dot. */
export function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, "");
}

/** Services whose names embed the address they resolve to (nip.io's and sslip.io's forms; xip.io and traefik.me use the same). */
const EMBEDDING_SERVICES = ["nip.io", "sslip.io", "xip.io", "traefik.me"] as const;

/** Services (and the reserved name `localhost`) whose every name resolves to this machine. */
const LOOPBACK_SERVICES = ["localhost", "localtest.me", "lvh.me", "vcap.me"] as const;

/** Every wildcard DNS domain known here: a name under one resolves by its text, not by records anyone here keeps. */
export const WILDCARD_DNS_DOMAINS: readonly string[] = [...EMBEDDING_SERVICES, ...LOOPBACK_SERVICES];

/** The wildcard DNS domain `host` is, or is a name under; undefined for any other host. */
export function wildcardDnsDomain(host: string): string | undefined {
  const h = normalizeHost(host);
  return WILDCARD_DNS_DOMAINS.find((d) => h === d || h.endsWith(`.${d}`));
}

const OCTET = /^(?:0|[1-9]\d{0,2})$/;
const octets = (parts: readonly string[]): string | undefined =>
  parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255) ? parts.map((p) => String(Number(p))).join(".") : undefined;

/**
 * The address a wildcard DNS name resolves to, read from its text as the service
 * reads it: the last four labels before the domain (`a.b.c.d.nip.io`, `www.a.b.c.d.nip.io`),
 * the end of the last label in dashes (`a-b-c-d.sslip.io`, `www-a-b-c-d.sslip.io`) or
 * in eight hex digits (`0a000001.nip.io`, `app-0a000001.nip.io`), an IPv6 address in
 * dashes (`--1.sslip.io`); `127.0.0.1` for a loopback service. Undefined for a name
 * that is not under a wildcard domain, or that spells no address (`nip.io` itself).
 */
export function embeddedAddress(host: string): string | undefined {
  const h = normalizeHost(host);
  const domain = wildcardDnsDomain(h);
  if (domain === undefined) return undefined;
  if ((LOOPBACK_SERVICES as readonly string[]).includes(domain)) return "127.0.0.1";
  if (h === domain) return undefined;
  const labels = h.slice(0, -domain.length - 1).split(".");
  const dotted = labels.length >= 4 ? octets(labels.slice(-4)) : undefined;
  if (dotted) return dotted;
  const last = labels[labels.length - 1]!;
  const dashed = /(?:^|-)(\d{1,3}-\d{1,3}-\d{1,3}-\d{1,3})$/.exec(last);
  if (dashed) {
    const a = octets(dashed[1]!.split("-"));
    if (a) return a;
  }
  const hex = /(?:^|-)([0-9a-f]{8})$/.exec(last);
  if (hex) return [0, 2, 4, 6].map((i) => String(parseInt(hex[1]!.slice(i, i + 2), 16))).join(".");
  const v6 = last.replace(/-/g, ":");
  if (last.includes("-") && isIP(v6) === 6) return canonicalIPv6(v6);
  return undefined;
}

function canonicalIPv6(address: string): string {
  return new URL(`http://[${address}]`).hostname.slice(1, -1);
}

/** Whether `host` is an IPv4 address written canonically, as a.b.c.d in decimal without leading zeros. */
export function isCanonicalIPv4(host: string): boolean {
  return isIP(host) === 4 && host.split(".").every((p) => OCTET.test(p));
}

/**
 * What two hosts are compared by: the address a name is known, offline, to resolve
 * to (an IP address in its canonical form; the one a wildcard DNS name spells
 * out; `127.0.0.1` for every loopback address and name), else the name itself,
 * normalised. `203-0-113-10.sslip.io`, `203.0.113.10.nip.io` and `203.0.113.10` are
 * one host; so are `localhost`, `::1` and `127.0.0.1`.
 */
export function hostIdentity(host: string): string {
  let h = normalizeHost(host);
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  const embedded = embeddedAddress(h);
  if (embedded !== undefined) h = embedded;
  if (isLoopbackHost(h)) return "127.0.0.1";
  if (isIP(h) === 6) return canonicalIPv6(h);
  return h;
}
