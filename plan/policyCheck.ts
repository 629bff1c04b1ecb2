/** Plugs the policy pack's rule functions into the offline plan: the same rules `pulumi preview --policy-pack policy` runs. */
import { readAllStacks } from "../config";
import { checkResources, contextForConfig, fromRecorded } from "../policy/rules";
import type { ResourceChecker } from "./plan";

export function policyChecker(dir: string): ResourceChecker {
  const stacks = readAllStacks(dir);
  return (resources, config) => checkResources(resources.map(fromRecorded), contextForConfig(config, stacks));
}
