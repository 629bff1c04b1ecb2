/**
 * The one parser of DATABASE_URL and REDIS_URL, against hostile forms: every
 * way a URL can make one reader connect somewhere other than what a text scan
 * or another reader sees is refused, by name, in one line.
 */
import { strict as assert } from "node:assert";
import {
  ConnectionUrlError,
  httpEndpoint,
  normaliseHttpUrl,
  parseSentryDsn,
  parsePostgresUrl,
  parseRedisUrl,
  percentDecoded,
  POSTGRES_QUERY_PARAMETERS,
} from "../lib/connectionUrl";

const PASSWORD = "s3cr3t-Pa55";
const pg = (rest: string) => `postgresql://mina_staging_app:${PASSWORD}@${rest}`;

/** Asserts a one-line refusal that starts with the key, matches `pattern` and never shows the password. */
function refused(parse: () => unknown, pattern: RegExp | string, key = "DATABASE_URL"): string {
  let message = "";
  assert.throws(parse, (e: unknown) => {
    assert.ok(e instanceof ConnectionUrlError, `a ConnectionUrlError, got ${String(e)}`);
    message = e.message;
    return true;
  });
  assert.ok(message.startsWith(`${key}: `), message);
  assert.ok(!message.includes("\n"), `one line: ${message}`);
  assert.ok(!message.includes(PASSWORD), `shows the password: ${message}`);
  if (typeof pattern === "string") assert.equal(message, pattern);
  else assert.match(message, pattern);
  return message;
}

describe("DATABASE_URL parser", () => {
  it("reads the program's own URL: decoded parts, default sslmode, masks both spellings of the password", () => {
    const u = parsePostgresUrl("postgresql://mina_staging_app:p%40ss%3Aw%2Frd@pg-shared.internal.mina.app:5432/mina_staging?sslmode=require");
    assert.deepEqual(
      { host: u.host, port: u.port, hostPort: u.hostPort, user: u.user, password: u.password, database: u.database, sslMode: u.sslMode },
      {
        host: "pg-shared.internal.mina.app",
        port: 5432,
        hostPort: "pg-shared.internal.mina.app:5432",
        user: "mina_staging_app",
        password: "p@ss:w/rd",
        database: "mina_staging",
        sslMode: "require",
      },
    );
    assert.deepEqual([...u.secrets].sort(), ["p%40ss%3Aw%2Frd", "p@ss:w/rd"].sort());
    const bare = parsePostgresUrl("postgres://u@db.internal/app");
    assert.equal(bare.port, 5432);
    assert.equal(bare.sslMode, "prefer");
    assert.equal(bare.password, undefined);
  });

  it("accepts exactly the allowlisted query parameters", () => {
    assert.deepEqual([...POSTGRES_QUERY_PARAMETERS], ["sslmode", "sslrootcert", "connect_timeout", "application_name"]);
    const u = parsePostgresUrl(
      pg("db.internal:6432/mina_staging?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=10&application_name=mina%20web"),
    );
    assert.equal(u.sslMode, "verify-full");
    assert.equal(u.sslRootCert, "/etc/ca.pem");
    assert.equal(u.connectTimeoutSeconds, 10);
    assert.equal(u.applicationName, "mina web");
    assert.equal(parsePostgresUrl(pg("db.internal/mina_staging?sslrootcert=system")).sslMode, "verify-full");
  });

  describe("refuses query parameters that redirect or bring credentials, by name", () => {
    const accepted = "only sslmode, sslrootcert, connect_timeout, application_name are accepted";
    for (const name of ["host", "hostaddr", "port", "dbname", "user", "options", "service", "target_session_attrs", "load_balance_hosts", "replication"]) {
      it(name, () => {
        refused(
          () => parsePostgresUrl(pg(`db.internal/mina_staging?sslmode=require&${name}=elsewhere`)),
          `DATABASE_URL: query parameter "${name}" can redirect the connection; ${accepted}`,
        );
      });
    }
    for (const name of ["passfile", "sslcert", "sslkey", "sslpassword", "password"]) {
      it(name, () => {
        refused(
          () => parsePostgresUrl(pg(`db.internal/mina_staging?${name}=%2Ftmp%2Fx`)),
          `DATABASE_URL: query parameter "${name}" brings credentials or keys from outside the URL; ${accepted}`,
        );
      });
    }
    it("anything else, including pg-connection-string's ssl and a differently cased sslmode", () => {
      refused(() => parsePostgresUrl(pg("db.internal/mina_staging?ssl=true")), `DATABASE_URL: query parameter "ssl" is not accepted; ${accepted}`);
      refused(() => parsePostgresUrl(pg("db.internal/mina_staging?SSLMODE=require")), /query parameter "SSLMODE" is not accepted/);
    });
    it("a parameter name hidden by percent-encoding (libpq decodes names too)", () => {
      refused(() => parsePostgresUrl(pg("db.internal/mina_staging?%68%6fst=prod-db.internal")), /query parameter "host" can redirect the connection/);
      refused(() => parsePostgresUrl(pg("db.internal/mina_staging?%64bname=mina_production")), /query parameter "dbname" can redirect the connection/);
    });
    it("a refused parameter is named even when the URL has other problems", () => {
      refused(() => parsePostgresUrl("postgresql://u:p@/?host=prod-db.internal&dbname=mina_production"), /query parameter "host" can redirect/);
    });
  });

  it("refuses a repeated parameter, even an accepted one", () => {
    refused(
      () => parsePostgresUrl(pg("db.internal/mina_staging?sslmode=require&sslmode=disable")),
      `DATABASE_URL: query parameter "sslmode" is given more than once`,
    );
    refused(() => parsePostgresUrl(pg("db.internal/mina_staging?sslmode=require&ss%6cmode=disable")), /"sslmode" is given more than once/);
  });

  it("refuses malformed queries as libpq does", () => {
    refused(() => parsePostgresUrl(pg("db.internal/mina_staging?sslmode")), /part without "="/);
    refused(() => parsePostgresUrl(pg("db.internal/mina_staging?sslmode=require&")), /part without "="/);
    refused(() => parsePostgresUrl(pg("db.internal/mina_staging?application_name=a=b")), /second "="/);
    refused(() => parsePostgresUrl(pg("db.internal/mina_staging?=x")), /parameter without a name/);
    refused(
      () => parsePostgresUrl(pg("db.internal/mina_staging?sslmode=maybe")),
      /sslmode "maybe" is not one of disable, allow, prefer, require, verify-ca, verify-full/,
    );
    refused(() => parsePostgresUrl(pg("db.internal/mina_staging?connect_timeout=5s")), /connect_timeout "5s" is not a whole number/);
    refused(() => parsePostgresUrl(pg("db.internal/mina_staging?sslrootcert=system&sslmode=require")), /sslrootcert=system needs sslmode=verify-full/);
    refused(() => parsePostgresUrl(pg("db.internal/mina_staging?application_name=a%0Ab")), /application_name contains a control character/);
  });

  it("refuses several hosts, written or percent-encoded", () => {
    refused(() => parsePostgresUrl(pg("db1.internal,db2.internal/mina_staging")), /lists more than one host \("host1,host2"\): only one host is accepted/);
    refused(() => parsePostgresUrl(pg("db1.internal:5432,db2.internal:5433/mina_staging")), /more than one host/);
    refused(() => parsePostgresUrl(pg("db1.internal%2Cdb2.internal/mina_staging")), /more than one host/);
  });

  it("refuses an empty host and a Unix socket path", () => {
    refused(() => parsePostgresUrl(pg("/mina_staging")), "DATABASE_URL: has no host");
    refused(() => parsePostgresUrl("postgresql:///mina_staging?host=/var/run/postgresql"), /"host" can redirect/);
    refused(
      () => parsePostgresUrl(pg("%2Fvar%2Frun%2Fpostgresql/mina_staging")),
      "DATABASE_URL: host is a Unix socket path; only a TCP host name or address is accepted",
    );
  });

  it("normalises hosts: case, trailing dot, IPv6 brackets and spelling", () => {
    assert.equal(parsePostgresUrl(pg("PG-Shared.Internal.MINA.app.:5432/mina_staging")).host, "pg-shared.internal.mina.app");
    assert.equal(parsePostgresUrl(pg("pg-shared.internal.mina.app./mina_staging")).hostPort, "pg-shared.internal.mina.app:5432");
    assert.equal(parsePostgresUrl(pg("%70g-shared.internal.mina.app/mina_staging")).host, "pg-shared.internal.mina.app");
    const v6 = parsePostgresUrl(pg("[0:0:0:0:0:0:0:1]:5433/mina_staging"));
    assert.equal(v6.host, "::1");
    assert.equal(v6.hostPort, "[::1]:5433");
    assert.equal(parsePostgresUrl(pg("[2001:DB8::A]/mina_staging")).host, "2001:db8::a");
    assert.equal(parsePostgresUrl(pg("10.0.0.7/mina_staging")).host, "10.0.0.7");
  });

  it("refuses hosts that resolvers read differently", () => {
    refused(() => parsePostgresUrl(pg("127.1/mina_staging")), /host "127.1" looks numeric but is not an IPv4 address written as a.b.c.d/);
    refused(() => parsePostgresUrl(pg("0x7f.0.0.1/mina_staging")), /looks numeric/);
    refused(() => parsePostgresUrl(pg("010.0.0.1/mina_staging")), /looks numeric/);
    refused(() => parsePostgresUrl(pg("[fe80::1%25eth0]/mina_staging")), /IPv6 host with a zone/);
    refused(() => parsePostgresUrl(pg("[::1/mina_staging")), /without its closing "\]"/);
    refused(() => parsePostgresUrl(pg("db..internal/mina_staging")), /is not a valid host name/);
    refused(() => parsePostgresUrl(pg("db%20x.internal/mina_staging")), /is not a valid host name/);
    refused(() => parsePostgresUrl(pg("%3A%3A1/mina_staging")), /IPv6 host without brackets/);
  });

  it("checks the database name after percent-decoding", () => {
    assert.equal(parsePostgresUrl(pg("db.internal/%6d%69%6e%61_production")).database, "mina_production");
    refused(
      () => parsePostgresUrl(pg("db.internal/mina_staging%2F..%2Fmina_production")),
      `DATABASE_URL: the database name contains "/" (written as / or %2F)`,
    );
    refused(() => parsePostgresUrl(pg("db.internal/mina_staging/x")), /database name contains "\/"/);
    refused(() => parsePostgresUrl(pg("db.internal/mina%20staging")), /database name "mina staging" is not a plain PostgreSQL name/);
    refused(() => parsePostgresUrl(pg("db.internal/mina%00")), /contains %00/);
    refused(() => parsePostgresUrl(pg("db.internal/mina%zz")), /not followed by two hex digits/);
    refused(() => parsePostgresUrl(pg("db.internal")), "DATABASE_URL: for db.internal:5432 names no database");
    refused(() => parsePostgresUrl(pg("db.internal/")), /names no database/);
  });

  it("checks the user after percent-decoding", () => {
    assert.equal(parsePostgresUrl(`postgresql://%6dina_production_app:${PASSWORD}@db.internal/mina_staging`).user, "mina_production_app");
    refused(() => parsePostgresUrl(`postgresql://mina%2Fx:${PASSWORD}@db.internal/mina_staging`), /user name "mina\/x" is not a plain PostgreSQL name/);
    refused(() => parsePostgresUrl(`postgresql://:${PASSWORD}@db.internal/mina_staging`), "DATABASE_URL: for db.internal:5432/mina_staging names no role");
  });

  it("refuses what parsers split differently: a second @, a fragment, brackets in credentials, raw spaces", () => {
    refused(() => parsePostgresUrl(`postgresql://u:${PASSWORD}@x@db.internal/mina_staging`), /more than one "@"/);
    refused(() => parsePostgresUrl(`postgresql://db.internal/mina_staging?application_name=u@prod-db.internal`), /"@" after the host/);
    refused(() => parsePostgresUrl(`postgresql://u:p?w@prod-db.internal/mina_production`), /"@" after the host/);
    refused(() => parsePostgresUrl(`postgresql://u:${PASSWORD}@db.internal/mina_staging#@prod-db.internal/mina_production`), /contains "#"/);
    refused(() => parsePostgresUrl(`postgresql://u:pa[ss@db.internal/mina_staging`), /"\[" or "\]" in the user name or password/);
    refused(() => parsePostgresUrl(`postgresql://u:pass word@db.internal/mina_staging`), /must be percent-encoded/);
    refused(() => parsePostgresUrl(`postgresql://u:pass\\word@db.internal/mina_staging`), /must be percent-encoded/);
  });

  it("refuses other schemes, including libpq's case-sensitive prefix", () => {
    refused(() => parsePostgresUrl("mysql://u:p@db.internal/mina_staging"), `DATABASE_URL: must start with postgresql:// or postgres://, not "mysql://"`);
    refused(() => parsePostgresUrl("PostgreSQL://u:p@db.internal/mina_staging"), /not "PostgreSQL:\/\/"/);
    refused(() => parsePostgresUrl("host=db.internal dbname=mina_staging"), /is not a URL of the form postgresql:\/\//);
    refused(() => parsePostgresUrl(""), "DATABASE_URL: is empty");
  });

  it("refuses bad ports", () => {
    refused(() => parsePostgresUrl(pg("db.internal:/mina_staging")), /port "" is not a number/);
    refused(() => parsePostgresUrl(pg("db.internal:70000/mina_staging")), /port 70000 is not a number from 1 to 65535/);
    refused(() => parsePostgresUrl(pg("db.internal:54a/mina_staging")), /port "54a"/);
  });

  it("names the key it was given", () => {
    refused(() => parsePostgresUrl("postgresql://u@db/x?host=y", "MY_DB"), /^MY_DB: query parameter "host"/, "MY_DB");
  });
});

describe("REDIS_URL parser", () => {
  it("reads Upstash's URL and a local one", () => {
    const u = parseRedisUrl(`rediss://default:${PASSWORD}@Mina-Staging-0a9fe.Upstash.io.:6379`);
    assert.deepEqual(
      { tls: u.tls, host: u.host, port: u.port, hostPort: u.hostPort, username: u.username, password: u.password, database: u.database },
      {
        tls: true,
        host: "mina-staging-0a9fe.upstash.io",
        port: 6379,
        hostPort: "mina-staging-0a9fe.upstash.io:6379",
        username: "default",
        password: PASSWORD,
        database: 0,
      },
    );
    const local = parseRedisUrl("redis://127.0.0.1/3");
    assert.deepEqual([local.tls, local.port, local.database, local.username, local.password], [false, 6379, 3, undefined, undefined]);
    assert.equal(parseRedisUrl(`redis://:${PASSWORD}@[::1]:6380/`).hostPort, "[::1]:6380");
  });

  it("refuses every query parameter, naming it", () => {
    refused(
      () => parseRedisUrl(`rediss://default:${PASSWORD}@r.upstash.io:6379?db=3`),
      /^REDIS_URL: query parameter "db" is not accepted: REDIS_URL takes no query parameters/,
      "REDIS_URL",
    );
    refused(
      () => parseRedisUrl(`rediss://default:${PASSWORD}@r.upstash.io:6379/0?ssl_cert_reqs=none`),
      /query parameter "ssl_cert_reqs" is not accepted/,
      "REDIS_URL",
    );
    refused(() => parseRedisUrl(`rediss://r.upstash.io:6379?%68ost=x`), /query parameter "host" is not accepted/, "REDIS_URL");
    refused(() => parseRedisUrl(`rediss://r.upstash.io:6379?`), /takes no query parameters/, "REDIS_URL");
  });

  it("takes a database index of digits only", () => {
    refused(() => parseRedisUrl("redis://r.internal/1/2"), /database index that is not a number/, "REDIS_URL");
    refused(() => parseRedisUrl("redis://r.internal/%31"), /database index that is not a number/, "REDIS_URL");
    refused(() => parseRedisUrl("redis://r.internal/-1"), /database index that is not a number/, "REDIS_URL");
    assert.equal(parseRedisUrl("redis://r.internal/15").database, 15);
  });

  it("refuses other schemes, several hosts, sockets and bad hosts", () => {
    refused(() => parseRedisUrl("unix:///tmp/redis.sock"), `REDIS_URL: must start with redis:// or rediss://, not "unix://"`, "REDIS_URL");
    refused(() => parseRedisUrl("http://r.internal"), /must start with redis:\/\//, "REDIS_URL");
    refused(() => parseRedisUrl("redis://a.internal,b.internal"), /more than one host/, "REDIS_URL");
    refused(() => parseRedisUrl("redis://%2Ftmp%2Fredis.sock"), /Unix socket path/, "REDIS_URL");
    refused(() => parseRedisUrl(`redis://default:${PASSWORD}@`), "REDIS_URL: has no host", "REDIS_URL");
    refused(() => parseRedisUrl("redis://127.1"), /looks numeric/, "REDIS_URL");
    refused(() => parseRedisUrl("redis://u%2Fx:p@r.internal"), /user name "u\/x" is not a plain name/, "REDIS_URL");
    refused(() => parseRedisUrl(`redis://default:${PASSWORD}@r.internal#x`), /contains "#"/, "REDIS_URL");
  });
});

describe("helpers", () => {
  it("percentDecoded decodes valid escapes once and keeps the rest", () => {
    assert.equal(percentDecoded("postgresql://u:p@h/%6d%69%6e%61_production"), "postgresql://u:p@h/mina_production");
    assert.equal(percentDecoded("100% %zz %256d"), "100% %zz %6d");
    assert.equal(percentDecoded("caf%C3%A9"), "café");
  });

  it("normaliseHttpUrl makes equivalent webhook and DSN spellings equal, and keeps case-sensitive parts", () => {
    const a = normaliseHttpUrl("https://hooks.slack.com/services/T000/B000/XXXX");
    assert.equal(normaliseHttpUrl("HTTPS://Hooks.Slack.COM.:443/services/T000/B000/XXXX#note"), a);
    assert.equal(normaliseHttpUrl("https://hooks.slack.com/%73ervices/T000/B000/XXXX"), a);
    assert.notEqual(normaliseHttpUrl("https://hooks.slack.com/services/T000/B000/xxxx"), a);
    assert.equal(normaliseHttpUrl("https://abc@O1.ingest.sentry.io/2"), "https://abc@o1.ingest.sentry.io/2");
    assert.equal(normaliseHttpUrl("not a url"), undefined);
    assert.equal(normaliseHttpUrl("ftp://x/y"), undefined);
  });

  it("httpEndpoint is one endpoint for http and https, a default port, a trailing slash", () => {
    const a = httpEndpoint("https://hooks.slack.com/services/T000/B000/XXXX");
    for (const v of [
      "http://hooks.slack.com/services/T000/B000/XXXX",
      "https://HOOKS.slack.com.:443/services/T000/B000/XXXX/",
      "http://hooks.slack.com:80/services/T000/B000/XXXX#x",
    ])
      assert.equal(httpEndpoint(v), a, v);
    for (const v of [
      "https://hooks.slack.com:8443/services/T000/B000/XXXX",
      "https://hooks.slack.com/services/T000/B000/xxxx",
      "https://hooks.slack.com/services/T000/B000/XXXX?a=1",
    ])
      assert.notEqual(httpEndpoint(v), a, v);
    assert.equal(httpEndpoint("mailto:x@y"), undefined);
  });

  it("parseSentryDsn reads every spelling of one project as one, and refuses what is not a DSN", () => {
    const saas = [
      "https://abc@o1.ingest.sentry.io/42",
      "HTTP://ABC@O1.Ingest.US.Sentry.IO.:80/42/",
      "https://abc@o7.ingest.de.sentry.io/042",
      "https://abc:old@sentry.io/42?x#y",
    ];
    for (const v of saas) {
      const d = parseSentryDsn(v);
      assert.deepEqual([d?.project, d?.publicKey], ["sentry.io/42", "abc"], v);
    }
    assert.equal(parseSentryDsn("https://abc:old@sentry.io/42")?.secretKey, "old");
    assert.equal(parseSentryDsn("https://abc@sentry.mina.app:9000/base/42/")?.project, "sentry.mina.app:9000/base/42");
    assert.equal(parseSentryDsn("http://abc@Sentry.Mina.App:443/Base/42")?.project, "sentry.mina.app/base/42");
    assert.notEqual(parseSentryDsn("https://abc@sentry.mina.app/42")?.project, parseSentryDsn("https://abc@o1.ingest.sentry.io/42")?.project);
    for (const v of ["https://o1.ingest.sentry.io/42", "https://abc@o1.ingest.sentry.io/", "https://abc@o1.ingest.sentry.io/p42", "ftp://abc@x/1", "abc", ""])
      assert.equal(parseSentryDsn(v), undefined, v);
  });
});
