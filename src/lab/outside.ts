import fs from 'node:fs';
import path from 'node:path';
import { startDaemon, withNetns, type CommandRunner } from '../host/index.js';
import { outsideCommands, labResolvConf, netnsEtcDir, type LabPlan } from './plan.js';
import { ensureSelfSignedCert } from './www-cert.js';
import { fetchCloudLbStatus, type CloudLbStatus } from '../cloudlb/index.js';
import { waitFor } from './wait.js';
import { LabError } from './errors.js';

/**
 * The lab's outside: the client and www machines, and (with a control plane)
 * the cloud load balancer — their namespaces, the www server and the load
 * balancer process. Both processes are started like the API server:
 * detached, with `nsenter --net` into their namespace, their PIDs recorded in
 * lab.json, their output in <state>/<machine>/<role>.log.
 */
export interface OutsideState {
  /** the www server's PID */
  www: number;
  /** the cloud load balancer's PID (labs with a control plane) */
  cloudLb?: number;
}

/** `node bin/podwire.js` plus the lab's extra Node flags are the caller's; this is the rest of each argv. */
export function wwwArgv(plan: LabPlan): string[] {
  const w = plan.outside.www;
  return [
    'www',
    '--name',
    w.name,
    '--http',
    String(w.httpPort),
    '--https',
    String(w.httpsPort),
    '--echo',
    String(w.echoPort),
    '--dns',
    String(w.dnsPort),
    '--dns-address',
    w.ip,
    '--tls-dir',
    w.stateDir,
    '--prefix',
    plan.prefix,
  ];
}

export function cloudLbArgv(plan: LabPlan): string[] {
  const c = plan.outside.cloudLb;
  return [
    'cloudlb',
    '--apiserver',
    `unix:${plan.controlPlane.socket}`,
    '--pool',
    c.pool,
    '--socket',
    c.socket,
    '--prefix',
    plan.prefix,
  ];
}

function spawnIn(ns: string, dir: string, logName: string, argv: string[], what: string): number {
  try {
    return startDaemon(withNetns(ns, argv), { logFile: path.join(dir, logName) });
  } catch (cause) {
    throw new LabError('ERR_START_FAILED', `could not start ${what}`, { cause });
  }
}

/** Build the outside machines and start their processes; returns their PIDs (the caller records them). */
export async function startOutside(
  plan: LabPlan,
  runner: CommandRunner,
  cliEntry: string,
  withCloudLb: boolean,
  log: (m: string) => void,
): Promise<OutsideState> {
  const { client, www, cloudLb } = plan.outside;
  log(
    `building the outside: ${client.ns} ${client.ip}, ${www.ns} ${www.ip}${withCloudLb ? `, ${cloudLb.ns} ${cloudLb.ip}` : ''}`,
  );
  for (const argv of outsideCommands(plan, { cloudLb: withCloudLb })) await runner.run(argv);
  const cert = await ensureSelfSignedCert(
    www.stateDir,
    { commonName: www.name, ips: [www.ip], dnsNames: [www.name] },
    runner,
  );
  log(`self-signed certificate for ${www.name} (${www.ip}) in ${cert.certFile}`);
  writeClientResolvConf(plan);
  log(
    `the client machine's resolver: ${www.ip} (${path.join(netnsEtcDir(client.ns), 'resolv.conf')}, as \`ip netns exec\` and \`podwire lab exec\` read it)`,
  );
  const state: OutsideState = {
    www: spawnIn(www.ns, www.stateDir, 'www.log', [process.execPath, cliEntry, ...wwwArgv(plan)], 'the www server'),
  };
  if (withCloudLb)
    state.cloudLb = spawnIn(
      cloudLb.ns,
      cloudLb.stateDir,
      'cloudlb.log',
      [process.execPath, cliEntry, ...cloudLbArgv(plan)],
      'the cloud load balancer',
    );
  return state;
}

/**
 * The client machine resolves through the outside's DNS, as a laptop uses
 * its network's resolver: /etc/netns/<lab>-client/resolv.conf, a file (and
 * directory) the lab owns and lab down removes.
 */
export function writeClientResolvConf(plan: LabPlan): void {
  const dir = netnsEtcDir(plan.outside.client.ns);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'resolv.conf'), labResolvConf(plan));
}

/** Undo writeClientResolvConf: our file, then the directory if nothing else is in it. */
export function removeClientResolvConf(plan: LabPlan): void {
  const dir = netnsEtcDir(plan.outside.client.ns);
  fs.rmSync(path.join(dir, 'resolv.conf'), { force: true });
  try {
    fs.rmdirSync(dir);
  } catch {
    /* absent, or someone else's files are in it */
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Until www serves (its log says so) and the load balancer answers /status. */
export async function waitForOutside(plan: LabPlan, s: OutsideState): Promise<void> {
  const { www, cloudLb } = plan.outside;
  const wwwLog = path.join(www.stateDir, 'www.log');
  await waitFor('the www server to listen', 20_000, () => {
    if (!alive(s.www)) throw new LabError('ERR_START_FAILED', `the www server exited:\n${tail(wwwLog)}`);
    return tail(wwwLog, 5).includes(' serving ');
  });
  if (s.cloudLb) {
    await waitFor('the cloud load balancer to answer', 30_000, async () => {
      if (!alive(s.cloudLb!))
        throw new LabError(
          'ERR_START_FAILED',
          `the cloud load balancer exited:\n${tail(path.join(cloudLb.stateDir, 'cloudlb.log'))}`,
        );
      return (await fetchCloudLbStatus(cloudLb.socket)) !== null;
    });
  }
}

export interface OutsideStatus {
  www: { pid: number; running: boolean };
  cloudLb: { pid: number; running: boolean; status: CloudLbStatus | null } | null;
}

export async function outsideStatus(
  plan: LabPlan,
  s: OutsideState,
  isOurs: (pid: number, role: 'www' | 'cloudlb') => boolean,
): Promise<OutsideStatus> {
  return {
    www: { pid: s.www, running: isOurs(s.www, 'www') },
    cloudLb: s.cloudLb
      ? {
          pid: s.cloudLb,
          running: isOurs(s.cloudLb, 'cloudlb'),
          status: await fetchCloudLbStatus(plan.outside.cloudLb.socket),
        }
      : null,
  };
}
