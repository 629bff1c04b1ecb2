/**
 * Updates that lose data over time: nothing is deleted today, but data goes later
 * (a new or shorter expiry rule, fewer days of backups, versioning suspended) or a
 * guard against losing it goes (deletion protection or the final snapshot off,
 * `forceDestroy` on, `protect` off, a profile with weaker protections). The
 * data-safety gate calls these "loses data over time" and holds them for approval,
 * from a preview document (old and new inputs) and from the offline plan diff (the
 * facts each plan records), through the same two functions.
 */
import { type Profile, PROFILES } from "./defaults";
import { protectionFor } from "./protection";

/** The few inputs of a resource that decide how long its data lives, in comparable form. */
export type RetentionFacts = Readonly<Record<string, number | boolean | string>>;

const LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration";
const VERSIONING = "aws:s3/bucketVersioning:BucketVersioning";
const BUCKET = "aws:s3/bucket:Bucket";
const RDS = "aws:rds/instance:Instance";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined);

/** The shortest expiry of the enabled rules, by `field` of `key` (e.g. expiration.days). */
function shortest(rules: unknown, key: string, field: string): number | undefined {
  const days = list(rules)
    .filter((r) => isObject(r) && r.status !== "Disabled")
    .flatMap((r) => list((r as Record<string, unknown>)[key]))
    .map((e) => (isObject(e) ? num(e[field]) : undefined))
    .filter((d): d is number => d !== undefined);
  return days.length > 0 ? Math.min(...days) : undefined;
}

/** The retention facts of a resource's inputs; undefined for a type whose data lives as long as it does. */
export function retentionFacts(type: string, inputs: unknown): RetentionFacts | undefined {
  const i = isObject(inputs) ? inputs : {};
  const facts: Record<string, number | boolean | string> = {};
  const set = (k: string, v: number | boolean | string | undefined) => {
    if (v !== undefined) facts[k] = v;
  };
  switch (type) {
    case LIFECYCLE:
      set("expireDays", shortest(i.rules, "expiration", "days"));
      set("noncurrentExpireDays", shortest(i.rules, "noncurrentVersionExpiration", "noncurrentDays"));
      return facts;
    case VERSIONING: {
      const c = list(i.versioningConfiguration)[0];
      set("versioning", isObject(c) && typeof c.status === "string" ? c.status : undefined);
      return facts;
    }
    case BUCKET:
      set("forceDestroy", i.forceDestroy === true);
      return facts;
    case RDS:
      set("backupRetentionDays", num(i.backupRetentionPeriod));
      set("deletionProtection", i.deletionProtection === true);
      set("skipFinalSnapshot", i.skipFinalSnapshot === true);
      return facts;
    default:
      return undefined;
  }
}

const days = (n: number | boolean | string | undefined) => (typeof n === "number" ? `${n} day${n === 1 ? "" : "s"}` : "never");

/** What an update loses over time, one line each (empty: nothing). */
export function retentionLosses(before: RetentionFacts | undefined, after: RetentionFacts | undefined): string[] {
  if (!before || !after) return [];
  const out: string[] = [];
  for (const [k, what] of [
    ["expireDays", "objects expire"],
    ["noncurrentExpireDays", "old object versions expire"],
  ] as const) {
    const b = before[k];
    const a = after[k];
    if (typeof a === "number" && (typeof b !== "number" || a < b)) out.push(`${what} after ${days(a)} (before: ${days(b)})`);
  }
  if (before.versioning === "Enabled" && after.versioning !== "Enabled")
    out.push(`versioning ${String(after.versioning ?? "removed").toLowerCase()}: overwritten and deleted objects are no longer kept`);
  if (before.forceDestroy === false && after.forceDestroy === true) out.push("forceDestroy on: deleting the bucket deletes every object in it");
  const rb = before.backupRetentionDays;
  const ra = after.backupRetentionDays;
  if (typeof rb === "number" && typeof ra === "number" && ra < rb)
    out.push(`backups kept ${days(ra)} (before: ${days(rb)})${ra === 0 ? ": 0 deletes the automated backups" : ""}`);
  if (before.deletionProtection === true && after.deletionProtection === false) out.push("deletion protection off");
  if (before.skipFinalSnapshot === false && after.skipFinalSnapshot === true) out.push("the final snapshot is skipped: deleting the instance keeps no copy");
  return out;
}

/** What a change of profile drops of the protections (empty: none), e.g. production to staging. */
export function profileLosses(before: string | undefined, after: string | undefined): string[] {
  const known = (p: string | undefined): p is Profile => p !== undefined && (PROFILES as readonly string[]).includes(p);
  if (!known(before) || !known(after) || before === after) return [];
  const b = protectionFor(before);
  const a = protectionFor(after);
  const drops: string[] = [];
  for (const k of ["protect", "deletionProtection", "finalSnapshot", "versioning"] as const) if (b[k] && !a[k]) drops.push(k);
  if (a.secretRecoveryDays < b.secretRecoveryDays) drops.push(`the env secret's recovery window (${b.secretRecoveryDays} → ${a.secretRecoveryDays} days)`);
  const parts = [
    ...(drops.length > 0 ? [`drops ${drops.join(", ")}`] : []),
    ...(!b.forceDestroy && a.forceDestroy ? ["turns forceDestroy on (deleting the bucket deletes its objects)"] : []),
  ];
  return parts.length > 0 ? [`profile ${before} → ${after} ${parts.join("; ")}`] : [];
}
