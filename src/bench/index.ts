export async function runBench(name: string): Promise<void> {
  throw new Error(`unknown benchmark "${name}"`);
}
