import type { CommandRunner } from './runner.js';
import { cmd } from './commands.js';

export interface LinkInfo {
  ifname: string;
  address: string;
  mtu: number;
  operstate: string;
}

export async function showLink(runner: CommandRunner, ns: string | undefined, name: string): Promise<LinkInfo | null> {
  const { stdout, exitCode } = await runner.run(cmd.linkShowJson(ns, name), { allowFailure: true });
  if (exitCode !== 0 || !stdout.trim()) return null;
  const rows = JSON.parse(stdout) as LinkInfo[];
  return rows[0] ?? null;
}

export async function listLinks(runner: CommandRunner, ns: string | undefined): Promise<LinkInfo[]> {
  const { stdout } = await runner.run(cmd.linkShowJson(ns), { allowFailure: true });
  return stdout.trim() ? (JSON.parse(stdout) as LinkInfo[]) : [];
}

/** IPv4 addresses per interface, from `ip -j addr show`. */
export async function ipv4Addresses(
  runner: CommandRunner,
  ns: string | undefined,
): Promise<{ ifname: string; local: string; prefixlen: number }[]> {
  const { stdout } = await runner.run(cmd.addrShowJson(ns), { allowFailure: true });
  if (!stdout.trim()) return [];
  const rows = JSON.parse(stdout) as {
    ifname: string;
    addr_info?: { family: string; local: string; prefixlen: number }[];
  }[];
  return rows.flatMap((r) =>
    (r.addr_info ?? [])
      .filter((a) => a.family === 'inet')
      .map((a) => ({ ifname: r.ifname, local: a.local, prefixlen: a.prefixlen })),
  );
}
