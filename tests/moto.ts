/**
 * A local AWS API for end-to-end tests: moto's server (`python3 -m moto.server`)
 * on 127.0.0.1, which speaks the real AWS wire protocols, so a command run as a
 * child process talks to it through the AWS SDK exactly as it would talk to AWS
 * (`AWS_ENDPOINT_URL` points the SDK at it). `npm test` starts one server for the
 * whole run (tests/global-moto.ts, which sets MINA_TEST_MOTO_URL) and every file
 * uses it with IAM users of its own; a file run alone starts and stops its own.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as net from "node:net";

export interface Moto {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /**
   * The environment of a command that uses this server with the credentials of an
   * IAM user of `account` (created on first use: moto tells accounts apart by the
   * access key).
   */
  env(account: string, base?: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(500) });
    return true;
  } catch {
    return false;
  }
}

/** An IAM user and access key in `account` (moto's own header chooses the account of the call). */
async function accessKey(url: string, account: string): Promise<{ id: string; secret: string }> {
  const iam = async (params: Record<string, string>) => {
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-moto-account-id": account,
        authorization: "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
      },
      body: new URLSearchParams({ Version: "2010-05-08", ...params }).toString(),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`moto IAM ${params.Action}: ${res.status} ${text.slice(0, 200)}`);
    return text;
  };
  const user = `deployer-${account}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  await iam({ Action: "CreateUser", UserName: user });
  const xml = await iam({ Action: "CreateAccessKey", UserName: user });
  const id = /<AccessKeyId>([^<]+)</.exec(xml)?.[1];
  const secret = /<SecretAccessKey>([^<]+)</.exec(xml)?.[1];
  if (!id || !secret) throw new Error("moto IAM CreateAccessKey: no key in the answer");
  return { id, secret };
}

/** The run's shared server when `npm test` started one, else a server of this file's own. */
export async function startMoto(): Promise<Moto> {
  const shared = process.env.MINA_TEST_MOTO_URL;
  if (shared && (await answers(shared))) return motoAt(shared, async () => undefined);
  return launchMoto();
}

/** Starts moto's server and waits (up to 20 s) until it answers. */
export async function launchMoto(): Promise<Moto> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = "";
  const child: ChildProcess = spawn("python3", ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (d) => (log += d));
  child.stderr?.on("data", (d) => (log += d));
  const deadline = Date.now() + 20_000;
  while (!(await answers(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill();
      throw new Error(`moto's server did not start on ${url} (python3 -m moto.server): ${log.split("\n").slice(-3).join(" ")}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return motoAt(
    url,
    () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill();
      }),
  );
}

function motoAt(url: string, stop: () => Promise<void>): Moto {
  const keys = new Map<string, { id: string; secret: string }>();
  return {
    url,
    async env(account, base = process.env) {
      if (!keys.has(account)) keys.set(account, await accessKey(url, account));
      const key = keys.get(account)!;
      return {
        ...Object.fromEntries(Object.entries(base).filter(([k]) => !/^(npm_|AWS_)/i.test(k))),
        AWS_ENDPOINT_URL: url,
        AWS_ACCESS_KEY_ID: key.id,
        AWS_SECRET_ACCESS_KEY: key.secret,
        AWS_REGION: "us-east-1",
        AWS_EC2_METADATA_DISABLED: "true",
        // The SDK's notice about the Node versions of its future releases is not the command's output.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      };
    },
    stop,
  };
}
