import * as assert from "node:assert/strict";
import { MIN_PRODUCTION_BACKUP_DAYS } from "../../config/defaults";
import {
  rdsBackupRetentionInProduction,
  rdsDeletionProtectionInProduction,
  rdsNoDefaultUsername,
  rdsNotPublic,
  rdsStorageEncrypted,
} from "../../policy/rules/rds";
import { type PlannedResource, UNKNOWN } from "../../policy/rules";
import { assertNoViolations, contextOf, only, recorded, runOn, withProps } from "./helpers";

describe("policy: RDS rules", () => {
  const staging = contextOf("staging");
  const production = contextOf("production");

  /** Production's RDS instance as the program declares it (staging runs in server mode: no instance). */
  async function happyPath(): Promise<PlannedResource> {
    return only(await recorded("production"), "aws:rds/instance:Instance");
  }

  it("the happy path is the instance production really declares", async () => {
    const db = await happyPath();
    assert.equal(db.props.identifier, "mina-production");
    assert.equal(db.protect, true);
  });

  describe("#rdsStorageEncrypted", () => {
    const rule = rdsStorageEncrypted();

    it("passes when storage is encrypted", async () => {
      assertNoViolations(runOn(rule, await happyPath(), production));
    });

    it("fails when storageEncrypted is false", async () => {
      const db = withProps(await happyPath(), { storageEncrypted: false });
      assert.deepEqual(runOn(rule, db, production), ["storageEncrypted is false; the database must be encrypted at rest"]);
      assert.deepEqual(runOn(rule, db, staging), ["storageEncrypted is false; the database must be encrypted at rest"]);
    });

    it("fails when storageEncrypted is not set (RDS defaults to unencrypted)", async () => {
      const db = withProps(await happyPath(), { storageEncrypted: undefined });
      assert.deepEqual(runOn(rule, db, production), ["storageEncrypted is not set; the database must be encrypted at rest"]);
    });

    it("does not judge a value unknown during preview", async () => {
      assertNoViolations(runOn(rule, withProps(await happyPath(), { storageEncrypted: UNKNOWN }), production));
    });
  });

  describe("#rdsNotPublic", () => {
    const rule = rdsNotPublic();

    it("passes when not publicly accessible, or left at the default", async () => {
      assertNoViolations(runOn(rule, await happyPath(), production));
      assertNoViolations(runOn(rule, withProps(await happyPath(), { publiclyAccessible: undefined }), production));
    });

    it("fails when publiclyAccessible is true", async () => {
      const db = withProps(await happyPath(), { publiclyAccessible: true });
      assert.deepEqual(runOn(rule, db, staging), ["publiclyAccessible is true; the database is reachable only from its environment's network"]);
    });
  });

  describe("#rdsDeletionProtectionInProduction", () => {
    const rule = rdsDeletionProtectionInProduction();

    it("passes when deletion protection is on", async () => {
      assertNoViolations(runOn(rule, await happyPath(), production));
    });

    it("fails in production when deletionProtection is false or not set", async () => {
      assert.deepEqual(runOn(rule, withProps(await happyPath(), { deletionProtection: false }), production), [
        "deletionProtection is false; production databases have deletion protection",
      ]);
      assert.deepEqual(runOn(rule, withProps(await happyPath(), { deletionProtection: undefined }), production), [
        "deletionProtection is not set; production databases have deletion protection",
      ]);
    });

    it("does not apply outside production", async () => {
      assertNoViolations(runOn(rule, withProps(await happyPath(), { deletionProtection: false }), staging));
    });
  });

  describe("#rdsBackupRetentionInProduction", () => {
    const rule = rdsBackupRetentionInProduction();

    it("passes at the minimum and above", async () => {
      assertNoViolations(runOn(rule, await happyPath(), production));
      assertNoViolations(runOn(rule, withProps(await happyPath(), { backupRetentionPeriod: MIN_PRODUCTION_BACKUP_DAYS }), production));
    });

    it("fails in production below the minimum", async () => {
      const db = withProps(await happyPath(), { backupRetentionPeriod: MIN_PRODUCTION_BACKUP_DAYS - 1 });
      assert.deepEqual(runOn(rule, db, production), [
        `backupRetentionPeriod is ${MIN_PRODUCTION_BACKUP_DAYS - 1}; production keeps backups for at least ${MIN_PRODUCTION_BACKUP_DAYS} days`,
      ]);
    });

    it("fails in production when not set", async () => {
      const db = withProps(await happyPath(), { backupRetentionPeriod: undefined });
      assert.deepEqual(runOn(rule, db, production), [
        `backupRetentionPeriod is not set; production keeps backups for at least ${MIN_PRODUCTION_BACKUP_DAYS} days`,
      ]);
    });

    it("does not apply outside production", async () => {
      assertNoViolations(runOn(rule, withProps(await happyPath(), { backupRetentionPeriod: 1 }), staging));
    });
  });

  describe("#rdsNoDefaultUsername", () => {
    const rule = rdsNoDefaultUsername();

    it("passes with the environment's own master user", async () => {
      assertNoViolations(runOn(rule, await happyPath(), production));
    });

    for (const username of ["postgres", "admin", "root", "Postgres"]) {
      it(`fails with the engine default "${username}"`, async () => {
        const db = withProps(await happyPath(), { username });
        assert.deepEqual(runOn(rule, db, staging), [
          `username "${username}" is an engine default; the master user is the environment's own (e.g. mina_<environment>_admin)`,
        ]);
      });
    }
  });

  it("no RDS rule applies to other types", async () => {
    const bucket = withProps(only(await recorded("production"), "aws:s3/bucket:Bucket"), { storageEncrypted: false, username: "postgres" });
    for (const rule of [rdsStorageEncrypted(), rdsNoDefaultUsername()]) assertNoViolations(runOn(rule, bucket, production));
  });
});
