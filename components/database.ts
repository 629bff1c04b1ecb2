import * as aws from "@pulumi/aws";
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { dbParameterGroupPrefix, type Names } from "../config/naming";
import type { Protection } from "../config/protection";
import type { DatabaseConfig, InstanceDatabaseConfig, ServerDatabaseConfig } from "../config/validate";
import { buildDatabaseUrl } from "./urls";
import { secretInput } from "./secretInput";

export interface DatabaseArgs {
  /** Derived names: database, role, RDS identifiers. */
  readonly names: Names;
  /** Which mode and its settings, already validated. */
  readonly config: DatabaseConfig;
  /** Decided by `protectionFor(profile)`. */
  readonly protection: Protection;
  /** The stack's AWS provider (instance mode). */
  readonly awsProvider: aws.Provider;
}

/** Characters RDS accepts in a master password (no `/`, `@`, `"` or space). */
const RDS_PASSWORD_SPECIALS = "!#%^*()-_=+[]{}:?";

/** The RDS instance's arguments, decided in plain code so tests can read them without mocks. */
export function rdsInstanceArgs(names: Names, cfg: InstanceDatabaseConfig, protection: Protection) {
  return {
    identifier: names.rdsIdentifier,
    engine: "postgres",
    engineVersion: cfg.engineVersion,
    instanceClass: cfg.instanceClass,
    allocatedStorage: cfg.allocatedStorageGb,
    storageType: "gp3",
    storageEncrypted: true,
    publiclyAccessible: false,
    multiAz: cfg.multiAz,
    dbName: names.databaseName,
    username: names.databaseMasterUser,
    port: 5432,
    backupRetentionPeriod: cfg.backupRetentionDays,
    deletionProtection: protection.deletionProtection,
    skipFinalSnapshot: !protection.finalSnapshot,
    finalSnapshotIdentifier: protection.finalSnapshot ? names.dbFinalSnapshot : undefined,
    copyTagsToSnapshot: true,
    autoMinorVersionUpgrade: true,
    iamDatabaseAuthenticationEnabled: true,
    enabledCloudwatchLogsExports: ["postgresql"],
    tags: { ...names.tags },
  };
}

/**
 * The environment's PostgreSQL: an RDS instance of its own (`instance`), or a
 * database and login role of its own on an existing server (`server`), where the
 * role owns only its database and `CONNECT` is revoked from `PUBLIC`.
 */
export class Database extends pulumi.ComponentResource {
  /** `DATABASE_URL`, secret. */
  readonly url: pulumi.Output<string>;
  readonly databaseName: string;
  readonly roleName: string;
  readonly host: pulumi.Output<string>;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mina:index:Database", name, {}, opts);
    this.databaseName = args.names.databaseName;
    const built =
      args.config.mode === "instance"
        ? this.instance(name, args, args.config)
        : this.server(name, args, args.config);
    this.roleName = built.role;
    this.host = built.host;
    this.url = pulumi.secret(built.url);
    this.registerOutputs({ url: this.url, databaseName: this.databaseName, roleName: this.roleName, host: this.host });
  }

  private instance(name: string, args: DatabaseArgs, cfg: InstanceDatabaseConfig) {
    const { names, protection } = args;
    const child = { parent: this, provider: args.awsProvider };
    const password = new random.RandomPassword(`${name}-master-password`, {
      length: 32,
      special: true,
      overrideSpecial: RDS_PASSWORD_SPECIALS,
    }, { parent: this });
    // Named by prefix (config/replacement.ts): a replacement is made beside the one the instance uses.
    const securityGroup = new aws.ec2.SecurityGroup(`${name}-sg`, {
      namePrefix: names.dbSecurityGroupPrefix,
      description: `PostgreSQL for ${names.environment} only`,
      vpcId: cfg.vpcId,
      ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: [...cfg.allowedCidrs], description: "PostgreSQL from app hosts" }],
      egress: [],
      tags: { ...names.tags },
    }, child);
    const subnetGroup = new aws.rds.SubnetGroup(`${name}-subnets`, {
      name: names.dbSubnetGroup,
      subnetIds: [...cfg.subnetIds],
      tags: { ...names.tags },
    }, child);
    const major = cfg.engineVersion.split(".")[0];
    const parameterGroup = new aws.rds.ParameterGroup(`${name}-params`, {
      namePrefix: dbParameterGroupPrefix(names, cfg.engineVersion),
      family: `postgres${major}`,
      parameters: [{ name: "rds.force_ssl", value: "1" }],
      tags: { ...names.tags },
    }, child);
    const instance = new aws.rds.Instance(`${name}-instance`, {
      ...rdsInstanceArgs(names, cfg, protection),
      password: password.result,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [securityGroup.id],
      parameterGroupName: parameterGroup.name,
    }, { ...child, protect: protection.protect });
    const url = pulumi
      .all([instance.address, instance.port, password.result])
      .apply(([host, port, pw]) =>
        buildDatabaseUrl({ user: names.databaseMasterUser, password: pw, host, port, database: names.databaseName, sslMode: "require" }),
      );
    return { url, host: instance.address, role: names.databaseMasterUser };
  }

  private server(name: string, args: DatabaseArgs, cfg: ServerDatabaseConfig) {
    const { names, protection } = args;
    const admin = new postgresql.Provider(`${name}-admin`, {
      host: cfg.host,
      port: cfg.port,
      username: cfg.adminUser,
      password: secretInput(cfg.adminPassword),
      sslmode: cfg.sslMode,
      database: "postgres",
      superuser: false,
    }, { parent: this });
    const child = { parent: this, provider: admin };
    const password = new random.RandomPassword(`${name}-role-password`, { length: 40, special: false }, { parent: this });
    const role = new postgresql.Role(`${name}-role`, {
      name: names.databaseRole,
      login: true,
      password: password.result,
      superuser: false,
      createDatabase: false,
      createRole: false,
      // Inherit: on PostgreSQL 15+ a database owner creates tables in `public` through pg_database_owner.
      inherit: true,
      replication: false,
    }, { ...child, protect: protection.protect });
    const database = new postgresql.Database(`${name}-db`, {
      name: names.databaseName,
      owner: role.name,
      allowConnections: true,
    }, { ...child, protect: protection.protect });
    new postgresql.Grant(`${name}-revoke-public-connect`, {
      database: database.name,
      role: "public",
      objectType: "database",
      privileges: [],
    }, child);
    const url = password.result.apply((pw) =>
      buildDatabaseUrl({ user: names.databaseRole, password: pw, host: cfg.host, port: cfg.port, database: names.databaseName, sslMode: cfg.sslMode }),
    );
    return { url, host: pulumi.output(cfg.host), role: names.databaseRole };
  }
}
