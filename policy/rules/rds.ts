/**
 * RDS rules: an environment's database instance is encrypted and private; in
 * production it cannot be deleted by accident and keeps its backups; its master user
 * is never an engine default that every environment would share.
 */
import { MIN_PRODUCTION_BACKUP_DAYS } from "../../config/defaults";
import { isUnknown, type PlannedResource, type Rule } from "./types";

export const RDS_INSTANCE = "aws:rds/instance:Instance";

/** Master user names engines create by default: never used as an environment's own. */
export const DEFAULT_MASTER_USERS = ["postgres", "admin", "root"] as const;

function instanceRule(name: string, description: string, check: (r: PlannedResource, production: boolean) => string[]): Rule {
  return {
    name,
    description,
    scope: "resource",
    checkResource(r, ctx) {
      return r.type === RDS_INSTANCE ? check(r, ctx.profile === "production") : [];
    },
  };
}

/** `storageEncrypted` is true. */
export function rdsStorageEncrypted(): Rule {
  return instanceRule("rds-storage-encrypted", "Every RDS instance encrypts its storage.", (r) => {
    const v = r.props.storageEncrypted;
    if (isUnknown(v) || v === true) return [];
    return [`storageEncrypted is ${v === undefined ? "not set" : String(v)}; the database must be encrypted at rest`];
  });
}

/** `publiclyAccessible` is false (the default when unset). */
export function rdsNotPublic(): Rule {
  return instanceRule("rds-not-public", "No RDS instance is publicly accessible.", (r) => {
    const v = r.props.publiclyAccessible;
    if (isUnknown(v) || v === undefined || v === false) return [];
    return [`publiclyAccessible is ${String(v)}; the database is reachable only from its environment's network`];
  });
}

/** In production, `deletionProtection` is true. */
export function rdsDeletionProtectionInProduction(): Rule {
  return instanceRule("rds-deletion-protection-production", "In production every RDS instance has deletion protection.", (r, production) => {
    const v = r.props.deletionProtection;
    if (!production || isUnknown(v) || v === true) return [];
    return [`deletionProtection is ${v === undefined ? "not set" : String(v)}; production databases have deletion protection`];
  });
}

/** In production, `backupRetentionPeriod` is at least `MIN_PRODUCTION_BACKUP_DAYS`. */
export function rdsBackupRetentionInProduction(): Rule {
  return instanceRule(
    "rds-backup-retention-production",
    `In production every RDS instance keeps backups for at least ${MIN_PRODUCTION_BACKUP_DAYS} days.`,
    (r, production) => {
      const v = r.props.backupRetentionPeriod;
      if (!production || isUnknown(v)) return [];
      const days = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined;
      if (days !== undefined && days >= MIN_PRODUCTION_BACKUP_DAYS) return [];
      const is = v === undefined ? "not set" : String(v);
      return [`backupRetentionPeriod is ${is}; production keeps backups for at least ${MIN_PRODUCTION_BACKUP_DAYS} days`];
    },
  );
}

/** The master `username` is not an engine default (`postgres`, `admin`, `root`). */
export function rdsNoDefaultUsername(): Rule {
  return instanceRule("rds-no-default-username", "No RDS instance uses an engine-default master user name (postgres, admin, root).", (r) => {
    const v = r.props.username;
    if (typeof v !== "string" || !(DEFAULT_MASTER_USERS as readonly string[]).includes(v.toLowerCase())) return [];
    return [`username "${v}" is an engine default; the master user is the environment's own (e.g. mina_<environment>_admin)`];
  });
}
