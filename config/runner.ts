/**
 * Where a stack's jobs run: `mina:deployRunner`, the runner labels its deploy,
 * verify, migrations, review teardown and sweep jobs ask for (`runs-on`).
 *
 * The jobs that touch an environment's database must run where the database is:
 * an RDS instance is private (`publiclyAccessible: false`, ingress only from
 * `mina:dbAllowedCidrs`), and the postgresql provider connects to a server-mode
 * server for every create, read, update and delete. GitHub-hosted runners reach
 * neither, so those jobs run on self-hosted runners inside the environment's own
 * network. The rules here:
 *
 * - every stack names its runner (required: where jobs run is never a default);
 * - a GitHub-hosted label (`ubuntu-latest`...) only for a server-mode stack whose
 *   server is not at a private address (an RDS instance always is);
 * - a production-tier stack's runner labels are its own: no other stack (nor the
 *   review template) asks for any of them, so no other environment's job, and no
 *   pull request's code, ever runs on production's runners;
 * - a review stack (pull request code) shares no runner label with a long-lived
 *   stack, so unreviewed code never runs on a runner that holds a long-lived
 *   environment's network access;
 * - labels every runner has (`self-hosted`, `linux`, `x64`...) distinguish nothing:
 *   each stack names at least one label of its own kind.
 */
import { isIP } from "node:net";
import type { RawStackConfig } from "./raw";
import { REVIEW_PROFILE } from "./defaults";
import { tierOfRaw } from "./tiers";

export const DEPLOY_RUNNER = "mina:deployRunner";

/** GitHub-hosted runner labels: these machines are outside every environment's network. */
const GITHUB_HOSTED = /^(ubuntu|windows|macos)-[a-z0-9.-]+$/i;

/** Labels every self-hosted runner carries (GitHub's defaults): they tell no runner apart. */
const GENERIC_LABELS: readonly string[] = ["self-hosted", "linux", "windows", "macos", "x64", "arm", "arm64"];

/** A runner label as GitHub accepts one: no spaces, no commas. */
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

/** The labels a raw value asks for (a list, or one label), as written. */
export function runnerLabels(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.filter((x): x is string => typeof x === "string");
}

/** Whether the labels ask for a GitHub-hosted runner. */
export function isGithubHosted(labels: readonly string[]): boolean {
  return labels.some((l) => GITHUB_HOSTED.test(l));
}

/** The labels that tell runners apart, compared case-insensitively (GitHub's labels are). */
function distinguishing(labels: readonly string[]): string[] {
  return labels.map((l) => l.toLowerCase()).filter((l) => !GENERIC_LABELS.includes(l) && !GITHUB_HOSTED.test(l));
}

/** Whether a host is private or cannot be known to be public offline (deny by default). */
export function isPrivateHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");
  if (isIP(h) === 4) {
    const [a, b] = h.split(".").map(Number);
    return (
      a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254)
    );
  }
  if (isIP(h) === 6) return /^(fc|fd|fe8|fe9|fea|feb)/.test(h) || h === "::1";
  // Names that only resolve inside a network, and single-label names.
  return !h.includes(".") || /\.(internal|local|lan|corp|intranet|private|home\.arpa|localdomain)$/.test(h) || /(^|\.)internal\./.test(h);
}

/** Whether a raw stack runs unreviewed code: the review profile (only ever set explicitly; the review template has it). */
function isReview(raw: Pick<RawStackConfig, "values">): boolean {
  return raw.values["mina:profile"] === REVIEW_PROFILE;
}

/** The problems of a stack's `mina:deployRunner`, as `[key, detail]` pairs; the key's absence is reported by the required check. */
export function runnerProblems(raw: RawStackConfig, siblings: readonly RawStackConfig[]): [string, string][] {
  const value = raw.values[DEPLOY_RUNNER];
  if (value === undefined) return [];
  const labels = runnerLabels(value);
  const out: [string, string][] = [];
  const bad = labels.find((l) => !LABEL.test(l));
  if (labels.length === 0 || bad !== undefined) {
    return [
      [
        DEPLOY_RUNNER,
        `${bad === undefined ? "names no runner label" : `has ${JSON.stringify(bad)}, which is not a runner label`}: give the labels of the runners this stack's jobs run on, e.g. [self-hosted, mina-${raw.stack}]`,
      ],
    ];
  }
  if (isGithubHosted(labels)) {
    const mode = raw.values["mina:databaseMode"];
    const host = raw.values["mina:dbServerHost"];
    if (mode !== "server") {
      out.push([
        DEPLOY_RUNNER,
        `asks for a GitHub-hosted runner (${labels.join(", ")}), which cannot reach this stack's private RDS instance: run its jobs on a self-hosted runner inside its VPC`,
      ]);
    } else if (typeof host !== "string" || isPrivateHost(host)) {
      out.push([
        DEPLOY_RUNNER,
        `asks for a GitHub-hosted runner (${labels.join(", ")}), which cannot reach the database server ${typeof host === "string" ? host : "(not set)"} at a private address: run its jobs on a self-hosted runner in that network`,
      ]);
    }
    return out;
  }
  const own = distinguishing(labels);
  if (own.length === 0) {
    return [
      [
        DEPLOY_RUNNER,
        `has only labels every self-hosted runner carries (${labels.join(", ")}): add one that names this environment's runners, e.g. mina-${raw.stack}`,
      ],
    ];
  }
  const production = tierOfRaw(raw) === "production";
  const review = isReview(raw);
  for (const other of siblings) {
    if (other.stack === raw.stack || other.unreadable) continue;
    const theirs = new Set(distinguishing(runnerLabels(other.values[DEPLOY_RUNNER])));
    const common = own.find((l) => theirs.has(l));
    if (common === undefined) continue;
    const otherProduction = tierOfRaw(other) === "production";
    const otherReview = isReview(other);
    if (production || otherProduction) {
      out.push([
        DEPLOY_RUNNER,
        `asks for runner label ${common}, as ${other.file} does: a production environment's jobs run on runners no other environment uses`,
      ]);
    } else if (review !== otherReview) {
      out.push([
        DEPLOY_RUNNER,
        `asks for runner label ${common}, as ${other.file} does: a review environment runs pull request code, so it never runs on a long-lived environment's runners`,
      ]);
    }
  }
  return out;
}

/** The `runs-on` value of a stack's jobs: its labels, as GitHub Actions takes a list. */
export function runsOn(raw: Pick<RawStackConfig, "values">): string[] {
  return runnerLabels(raw.values[DEPLOY_RUNNER]);
}
