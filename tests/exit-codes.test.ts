/**
 * A command's exit code is the truth: each command's failure paths run end to end
 * through the compiled `mina-infra` bin in a child process, as a deploy job runs
 * them, checking the exit code and the one line that says why. In-process tests
 * cannot see a process that ends before its command settles (mocha keeps the
 * event loop alive); these can.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { run, spawnCliAsync, spawnProcess } from "./cli";
import { REPO } from "./helpers";

/** A loopback HTTP server answering every request with `handler`; `silent` accepts connections and never answers. */
function server(handler: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | "silent"): Promise<{ port: number; close: () => Promise<void> }> {
  const s: net.Server = handler === "silent" ? net.createServer(() => undefined) : http.createServer(handler);
  const sockets = new Set<net.Socket>();
  s.on("connection", (c: net.Socket) => {
    sockets.add(c);
    c.on("close", () => sockets.delete(c));
  });
  return new Promise((resolve) =>
    s.listen(0, "127.0.0.1", () =>
      resolve({
        port: (s.address() as net.AddressInfo).port,
        close: () =>
          new Promise((r) => {
            for (const c of sockets) c.destroy();
            s.close(() => r());
          }),
      }),
    ),
  );
}

/** A port on 127.0.0.1 where nothing listens. */
async function closedPort(): Promise<number> {
  const s = await server("silent");
  await s.close();
  return s.port;
}

const RUN = path.join(REPO, "dist", "cli", "lib", "run.js");

describe("runCli: only a command that resolved with 0 exits 0", function () {
  this.timeout(30_000);
  const runScript = (body: string) => spawnProcess(process.execPath, ["-e", `require(${JSON.stringify(RUN)}).runCli(async () => { ${body} }, [], "probe")`]);

  it("a command left waiting on nothing (an unreferenced timer) exits 1 and says it stopped before it finished", async () => {
    const r = await runScript("await new Promise((resolve) => setTimeout(resolve, 5000).unref()); return 0;");
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "error: probe stopped before it finished (nothing was left to wait for): treat it as failed\n");
    assert.equal(r.stdout, "");
  });

  it("a command whose promise is dropped (never settles) exits 1 the same way", async () => {
    const r = await runScript("await new Promise(() => undefined); return 0;");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: probe stopped before it finished/);
  });

  it("passes the command's own code through, and a rejection is exit 1 with its first line", async () => {
    assert.equal((await runScript("return 0;")).status, 0);
    assert.equal((await runScript("await new Promise((r) => setTimeout(r, 50)); return 3;")).status, 3);
    const thrown = await runScript('throw new Error("first line\\nsecond line");');
    assert.equal(thrown.status, 1);
    assert.equal(thrown.stderr, "error: first line\n");
  });
});

describe("failure paths end to end, through the bin", function () {
  this.timeout(60_000);

  describe("smoke", () => {
    it("a 5xx after its retries (the backoff wait in between) exits 1 with one line", async () => {
      let hits = 0;
      const s = await server((_req, res) => {
        hits++;
        res.writeHead(500).end();
      });
      try {
        const url = `http://127.0.0.1:${s.port}/api/version`;
        const r = await spawnCliAsync("smoke", ["--stack", "staging", "--url", url, "--retries", "1"]);
        assert.equal(r.status, 1, r.stderr);
        assert.equal(r.stderr, `error: smoke check of staging failed: GET ${url} answered 500\n`);
        assert.equal(hits, 2, "the retry ran after the backoff wait");
      } finally {
        await s.close();
      }
    });

    it("a server that never answers exits 1 naming the timeout", async () => {
      const s = await server("silent");
      try {
        const url = `http://127.0.0.1:${s.port}/api/version`;
        const r = await spawnCliAsync("smoke", ["--stack", "staging", "--url", url, "--timeout", "300ms", "--retries", "0"]);
        assert.equal(r.status, 1, r.stderr);
        assert.equal(r.stderr, `error: smoke check of staging failed: GET ${url}: no answer within 300 ms\n`);
      } finally {
        await s.close();
      }
    });

    it("a refused connection exits 1, in text and in --json", async () => {
      const url = `http://127.0.0.1:${await closedPort()}/api/version`;
      const r = await spawnCliAsync("smoke", ["--stack", "staging", "--url", url, "--retries", "0"]);
      assert.equal(r.status, 1);
      assert.equal(r.stderr, `error: smoke check of staging failed: GET ${url}: ECONNREFUSED\n`);
      const j = await spawnCliAsync("smoke", ["--stack", "staging", "--url", url, "--retries", "0", "--json"]);
      assert.equal(j.status, 1);
      assert.equal(JSON.parse(j.stdout).ok, false);
    });

    it("another environment's answer exits 1, and the stack's own answer exits 0", async () => {
      let environment = "production";
      const s = await server((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ environment, version: "v1.4.2" })));
      try {
        const url = `http://127.0.0.1:${s.port}/api/version`;
        const wrong = await spawnCliAsync("smoke", ["--stack", "staging", "--url", url]);
        assert.equal(wrong.status, 1);
        assert.match(wrong.stderr, /^error: smoke check of staging failed: .* reports environment "production", but this is staging's host/);
        environment = "staging";
        const ok = await spawnCliAsync("smoke", ["--stack", "staging", "--url", url]);
        assert.equal(ok.status, 0, ok.stderr);
        assert.equal(ok.stdout, `✓ GET ${url} answered 200, environment "staging"\n`);
        // The version the app reports: the deploy job migrates at it.
        const json = await run("smoke", ["--stack", "staging", "--url", url, "--json"]);
        assert.equal(JSON.parse(json.stdout).version, "v1.4.2");
      } finally {
        await s.close();
      }
    });
  });

  describe("verify --live", () => {
    let work: string;
    before(() => {
      work = fs.mkdtempSync(path.join(os.tmpdir(), "mina-exit-verify-"));
    });
    after(() => fs.rmSync(work, { recursive: true, force: true }));
    const envFile = (dbPort: number, redisPort: number) => {
      const file = path.join(work, ".env.staging.local");
      const lines = [
        "ENVIRONMENT='staging'",
        `DATABASE_URL='postgresql://mina_staging:not-a-real-password@127.0.0.1:${dbPort}/mina_staging?sslmode=disable'`,
        `REDIS_URL='redis://127.0.0.1:${redisPort}/0'`,
      ];
      fs.writeFileSync(file, `${lines.join("\n")}\n`, { mode: 0o600 });
      return file;
    };

    it("unreachable servers fail their live items and exit 1, with no password printed", async () => {
      const port = await closedPort();
      const r = await spawnCliAsync("verify", [envFile(port, port), "--stack", "staging", "--live", "--timeout", "1s"]);
      assert.equal(r.status, 1);
      assert.match(
        r.stdout,
        new RegExp(`^✗ postgres: connect: cannot connect to 127\\.0\\.0\\.1:${port}/mina_staging as mina_staging: connect ECONNREFUSED`, "m"),
      );
      assert.match(r.stdout, new RegExp(`^✗ redis: connect: cannot connect to 127\\.0\\.0\\.1:${port}/0: connect ECONNREFUSED`, "m"));
      assert.ok(!(r.stdout + r.stderr).includes("not-a-real-password"));
    });

    it("servers that accept and never answer fail by the timeout and exit 1", async () => {
      const s = await server("silent");
      try {
        const r = await spawnCliAsync("verify", [envFile(s.port, s.port), "--stack", "staging", "--live", "--timeout", "500ms", "--json"]);
        assert.equal(r.status, 1, r.stderr);
        const out = JSON.parse(r.stdout) as { ok: boolean; results: { item: string; ok: boolean; reason: string }[] };
        assert.equal(out.ok, false);
        const failed = (item: string) => out.results.find((x) => x.item === item);
        assert.equal(failed("postgres: connect")?.ok, false);
        assert.match(failed("postgres: connect")!.reason, /no answer within 500 ms|timeout/i);
        // Redis: the TCP connection opens, and the first command gets no answer.
        assert.equal(failed("redis: PING")?.ok, false, JSON.stringify(out.results.filter((x) => x.item.startsWith("redis"))));
      } finally {
        await s.close();
      }
    });
  });

  describe("refresh refusals", () => {
    for (const [i, [args, code, message]] of (
      [
        [
          ["--from", "staging", "--to", "production"],
          1,
          "error: refusing to refresh production: it is a production-tier stack, and nothing is ever copied into production\n",
        ],
        [["--from", "production", "--to", "production"], 2, "error: --from and --to are both production: a refresh copies from one stack into another\n"],
        [
          ["--from", "production", "--to", "staging"],
          1,
          "error: refusing to refresh staging: its stack file Pulumi.staging.yaml does not declare mina:refreshFrom: production\n",
        ],
      ] as const
    ).entries()) {
      it(`refresh ${args.join(" ")} exits ${code} in one line (${code === 1 ? "refused" : "usage"})${i === 0 ? " (through the bin)" : ""}`, async () => {
        const r = i === 0 ? await spawnCliAsync("refresh", [...args]) : await run("refresh", [...args]);
        assert.equal(r.status, code);
        assert.equal(r.stderr, message);
        assert.equal(r.stdout, "");
      });
    }
  });

  describe("gate", () => {
    it("a blocked preview exits 1; an unreadable one exits 2", async () => {
      const blocked = await spawnCliAsync("gate", ["--preview", path.join(REPO, "tests", "fixtures", "preview", "rds-delete.json")]);
      assert.equal(blocked.status, 1, blocked.stderr);
      assert.match(blocked.stdout, /^2 operations need approval:\n {2}production: DELETE aws:rds:Instance /);
      assert.match(blocked.stdout, /^✗ BLOCKED: /m);
      const missing = await run("gate", ["--preview", path.join(REPO, "tests", "fixtures", "preview", "no-such-file.json")]);
      assert.equal(missing.status, 2);
      assert.match(missing.stderr, /^error: [^\n]*no-such-file\.json[^\n]*\n$/);
    });
  });
});
