import * as aws from "@pulumi/aws";
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { dbParameterGroupPrefix, type Names } from "../config/naming";
import type { Protection } from "../config/protection";
import type { DatabaseConfig, InstanceDatabaseConfig, ServerDatabaseConfig } from "../config/stackConfig";
import { APP_ROLE, PUBLIC_DATABASE_PRIVILEGES } from "../config/databasePrivileges";
import { replacementOptions } from "../config/replacement";
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

/**
 * The RDS instance's arguments, decided in plain code so tests can read them without mocks.
 * No `dbName`: RDS would create that database owned by the master user. The app's database
 * is created through the postgresql provider instead, owned by the app's role, as in server
 * mode (one code path, and the master user's password never reaches DATABASE_URL).
 */
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
 * server shared with other environments (`server`). In both, the app connects as
 * a login role of its own that owns its database, `PUBLIC` keeps nothing on that
 * database, and the admin the postgresql provider runs as (server mode's
 * `mina:dbServerAdminUser`, instance mode's master user) is a member of the app
 * role: config/databasePrivileges.ts says why, and what each role must be.
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
    const built = args.config.mode === "instance" ? this.instance(name, args, args.config) : this.server(name, args, args.config);
    this.roleName = args.names.databaseRole;
    this.host = built.host;
    this.url = pulumi.secret(built.url);
    this.registerOutputs({ url: this.url, databaseName: this.databaseName, roleName: this.roleName, host: this.host });
  }

  private instance(name: string, args: DatabaseArgs, cfg: InstanceDatabaseConfig) {
    const { names, protection } = args;
    const child = { parent: this, provider: args.awsProvider };
    // The master user's password: only in state (the instance's and the provider's inputs), never in an output or env file.
    const masterPassword = new random.RandomPassword(
      `${name}-master-password`,
      {
        length: 32,
        special: true,
        overrideSpecial: RDS_PASSWORD_SPECIALS,
      },
      { parent: this },
    );
    // Named by prefix (config/replacement.ts): a replacement is made beside the one the instance uses.
    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        namePrefix: names.dbSecurityGroupPrefix,
        description: `PostgreSQL for ${names.environment} only`,
        vpcId: cfg.vpcId,
        ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: [...cfg.allowedCidrs], description: "PostgreSQL from app hosts" }],
        egress: [],
        tags: { ...names.tags },
      },
      child,
    );
    const subnetGroup = new aws.rds.SubnetGroup(
      `${name}-subnets`,
      {
        name: names.dbSubnetGroup,
        subnetIds: [...cfg.subnetIds],
        tags: { ...names.tags },
      },
      child,
    );
    const major = cfg.engineVersion.split(".")[0];
    const parameterGroup = new aws.rds.ParameterGroup(
      `${name}-params`,
      {
        namePrefix: dbParameterGroupPrefix(names, cfg.engineVersion),
        family: `postgres${major}`,
        parameters: [{ name: "rds.force_ssl", value: "1" }],
        tags: { ...names.tags },
      },
      child,
    );
    const instance = new aws.rds.Instance(
      `${name}-instance`,
      {
        ...rdsInstanceArgs(names, cfg, protection),
        password: masterPassword.result,
        dbSubnetGroupName: subnetGroup.name,
        vpcSecurityGroupIds: [securityGroup.id],
        parameterGroupName: parameterGroup.name,
      },
      { ...child, protect: protection.protect },
    );
    // The master user (LOGIN CREATEDB CREATEROLE, rds_superuser, never a superuser) creates the app's
    // role and database as server mode's admin does. The deploy runs inside the VPC: its address must
    // be among mina:dbAllowedCidrs to reach the instance.
    const admin = new postgresql.Provider(
      `${name}-admin`,
      {
        host: instance.address,
        port: instance.port,
        username: names.databaseMasterUser,
        password: masterPassword.result,
        sslmode: "require",
        database: "postgres",
        superuser: false,
      },
      { parent: this },
    );
    const url = this.appDatabase(name, args, admin, names.databaseMasterUser, { host: instance.address, port: instance.port, sslMode: "require" });
    return { url, host: instance.address };
  }

  private server(name: string, args: DatabaseArgs, cfg: ServerDatabaseConfig) {
    const admin = new postgresql.Provider(
      `${name}-admin`,
      {
        host: cfg.host,
        port: cfg.port,
        username: cfg.adminUser,
        password: secretInput(cfg.adminPassword),
        sslmode: cfg.sslMode,
        database: "postgres",
        superuser: false,
      },
      { parent: this },
    );
    const url = this.appDatabase(name, args, admin, cfg.adminUser, { host: pulumi.output(cfg.host), port: pulumi.output(cfg.port), sslMode: cfg.sslMode });
    return { url, host: pulumi.output(cfg.host) };
  }

  /**
   * The app's login role, the admin's membership of it, the database it owns and
   * the grant that leaves `PUBLIC` nothing on that database (provisionStatements
   * in config/databasePrivileges.ts is the SQL they amount to). Returns DATABASE_URL.
   */
  private appDatabase(
    name: string,
    args: DatabaseArgs,
    admin: postgresql.Provider,
    adminUser: string,
    at: { host: pulumi.Input<string>; port: pulumi.Input<number>; sslMode: string },
  ): pulumi.Output<string> {
    const { names, protection } = args;
    const child = { parent: this, provider: admin };
    const password = new random.RandomPassword(`${name}-role-password`, { length: 40, special: false }, { parent: this });
    const role = new postgresql.Role(
      `${name}-role`,
      {
        name: names.databaseRole,
        password: password.result,
        ...APP_ROLE,
      },
      { ...child, protect: protection.protect },
    );
    // Before the database: the provider, finding the admin already a member of the owner, then neither
    // grants nor revokes it around CREATE DATABASE, and the REVOKE below runs with the owner's rights.
    const membership = new postgresql.GrantRole(
      `${name}-admin-member`,
      {
        role: adminUser,
        grantRole: role.name,
        withAdminOption: false,
      },
      { ...child, ...replacementOptions("postgresql:index/grantRole:GrantRole") },
    );
    const database = new postgresql.Database(
      `${name}-db`,
      {
        name: names.databaseName,
        owner: role.name,
        allowConnections: true,
      },
      { ...child, protect: protection.protect, dependsOn: [membership] },
    );
    new postgresql.Grant(
      `${name}-revoke-public-connect`,
      {
        database: database.name,
        role: "public",
        objectType: "database",
        privileges: [...PUBLIC_DATABASE_PRIVILEGES],
      },
      { ...child, dependsOn: [membership] },
    );
    return pulumi
      .all([password.result, at.host, at.port])
      .apply(([pw, host, port]) => buildDatabaseUrl({ user: names.databaseRole, password: pw, host, port, database: names.databaseName, sslMode: at.sslMode }));
  }
}
