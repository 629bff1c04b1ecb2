/**
 * One moto server (tests/moto.ts) for a whole `npm test` run, shared by the test
 * files that talk to a local AWS API: mocha runs this setup once, in its main
 * process, before the workers start, and they inherit MINA_TEST_MOTO_URL.
 */
import { launchMoto, type Moto } from "./moto";

let moto: Moto | undefined;

export async function mochaGlobalSetup(): Promise<void> {
  moto = await launchMoto();
  process.env.MINA_TEST_MOTO_URL = moto.url;
}

export async function mochaGlobalTeardown(): Promise<void> {
  await moto?.stop();
}
