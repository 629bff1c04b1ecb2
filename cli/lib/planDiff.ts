export async function planDiffMain(_dir: string, _base: string, _format: string, _stacks?: string[]): Promise<number> {
  throw new Error("--base is not available yet");
}
