import { execProcess } from '../host/index.js';
import {
  labUp,
  labDown,
  addPod,
  restartAgent,
  waitFor,
  readLabState,
  labPki,
  adminKubeconfigPath,
  labApiServerUrl,
  type LabState,
} from '../lab/index.js';
import { callAgent, agentSocketPath } from '../agent/index.js';
import { BenchError } from './errors.js';

/**
 * `podwire bench restart` (#15): what an agent restart costs a live flow.
 * - graceful (`lab restart-agent`: the successor takes the node over,
 *   src/agent/handover.ts) and kill -9 with the supervisor restarting it:
 *   the longest gap in a 10 ms ping through the restarted node, pings lost,
 *   iperf3 across the restart (completed? retransmits beside a run without
 *   one), conntrack entries kept;
 * - the kernel's equivalent in the same run: a kernel dataplane's forwarding
 *   does not stop when its control-plane daemon (kube-proxy) restarts, so its
 *   gap is the ping's own loss on the same path with nothing restarted;
 * - API request latency with authentication (HTTPS + client certificate,
 *   HTTPS + ServiceAccount token under RBAC) beside none (the root socket);
 * - overlay throughput with anti-spoofing on and off, interleaved rounds.
 * Last line: RESULT restart {…}.
 */
export async function benchRestart(
  opts: { rounds?: number; seconds?: number; log?: (m: string) => void } = {},
): Promise<Record<string, unknown>> {
  const rounds = opts.rounds ?? 3;
  const seconds = opts.seconds ?? 4;
  const log = opts.log ?? ((m: string) => process.stdout.write(`${m}\n`));
  const prefix = 'pwbenchr';
  const out: Record<string, unknown> = {};
  try {
    log('lab: 2 nodes with the control plane and the supervisor; pod c on node1, pod s on node2');
    const state = await labUp({ prefix, nodes: 2, controlPlane: true, supervise: true });
    const c = await addPod(state, 'node1', 'c');
    const s = await addPod(state, 'node2', 's');
    const node2 = state.plan.nodes.find((n) => n.name === 'node2')!;
    const conntrackCount = async () =>
      ((await callAgent(agentSocketPath(node2.stateDir), 'GET', '/conntrack', undefined, 5000)).body as unknown[])
        .length;

    // --- the ping gap
    const baseline = await pingGap(c.netns, s.ip, 300, async () => undefined);
    log(`  no restart (the kernel's case):  ${fmtGap(baseline)}`);
    const graceful: Gap[] = [];
    for (let i = 0; i < rounds; i++)
      graceful.push(await pingGap(c.netns, s.ip, 300, () => restartAgent({ prefix, node: 'node2' }).then(() => {})));
    log(`  graceful restart (handover):     ${graceful.map(fmtGap).join(' | ')}`);
    const killed: Gap[] = [];
    for (let i = 0; i < rounds; i++) {
      const pid = readLabState(prefix)!.agents.node2;
      killed.push(
        await pingGap(c.netns, s.ip, 800, async () => {
          process.kill(pid, 'SIGKILL');
          // the supervisor starts another (its back-off: at once, then 1 s doubling)
          await waitFor('the supervisor to restart node2’s agent', 30_000, async () => {
            const now = readLabState(prefix)!.agents.node2;
            if (now === pid) return false;
            const r = await callAgent(agentSocketPath(node2.stateDir), 'GET', '/status', undefined, 1000).catch(
              () => null,
            );
            return r?.status === 200;
          });
        }),
      );
      await new Promise((r) => setTimeout(r, 1500)); // past the back-off's reset of a quick second death
    }
    log(`  kill -9, supervisor restarts:    ${killed.map(fmtGap).join(' | ')}`);

    // --- iperf3 across a restart
    const plain = await iperfAcross(s.netns, c.netns, s.ip, seconds + 2, async () => undefined);
    const across = await iperfAcross(s.netns, c.netns, s.ip, seconds + 2, async () => {
      await restartAgent({ prefix, node: 'node2' });
    });
    log(
      `  iperf3 ${seconds + 2} s: without a restart ${plain.gbps.toFixed(2)} Gbit/s, ${plain.retransmits} retransmits; across a graceful restart ${across.gbps.toFixed(2)} Gbit/s, ${across.retransmits} retransmits, ${across.error ?? 'completed'}`,
    );

    // --- conntrack kept
    const ctBefore = await conntrackCount();
    await restartAgent({ prefix, node: 'node2' });
    const ctAfter = await conntrackCount();
    log(`  conntrack entries on node2: ${ctBefore} before a graceful restart, ${ctAfter} after`);

    // --- API latency with and without authentication
    const api = await apiLatency(state, 2000);
    log(
      `  API GET p50: root socket (no authentication) ${api.socket_ms.toFixed(3)} ms, HTTPS + client certificate ${api.cert_ms.toFixed(3)} ms, HTTPS + token (RBAC) ${api.token_ms.toFixed(3)} ms`,
    );

    // --- anti-spoofing's cost on the overlay: agents restarted (gracefully) with it off and on, interleaved
    const on: number[] = [];
    const off: number[] = [];
    for (let i = 0; i < rounds; i++) {
      for (const mode of ['off', 'on'] as const) {
        process.env.PODWIRE_ANTI_SPOOFING = mode;
        for (const n of ['node1', 'node2']) await restartAgent({ prefix, node: n });
        (mode === 'on' ? on : off).push(
          (await iperfAcross(s.netns, c.netns, s.ip, seconds, async () => undefined)).gbps,
        );
      }
    }
    delete process.env.PODWIRE_ANTI_SPOOFING;
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    log(
      `  overlay: anti-spoofing on ${on.map((x) => x.toFixed(2)).join(', ')} Gbit/s; off ${off.map((x) => x.toFixed(2)).join(', ')} Gbit/s`,
    );

    const worst = (gs: Gap[]) => Math.max(...gs.map((g) => g.maxGapMs));
    const r3 = (x: number) => Math.round(x * 1000) / 1000;
    Object.assign(out, {
      graceful_gap_ms_max: Math.round(worst(graceful)),
      graceful_lost_max: Math.max(...graceful.map((g) => g.lost)),
      kill9_gap_ms_max: Math.round(worst(killed)),
      kill9_lost_max: Math.max(...killed.map((g) => g.lost)),
      kernel_gap_ms: Math.round(baseline.maxGapMs),
      kernel_lost: baseline.lost,
      gap_ratio_graceful_to_kernel: r3(worst(graceful) / Math.max(baseline.maxGapMs, 1)),
      iperf_completed_across_restart: !across.error,
      iperf_retransmits_plain: plain.retransmits,
      iperf_retransmits_across_restart: across.retransmits,
      conntrack_before: ctBefore,
      conntrack_after: ctAfter,
      api_p50_ms_socket: r3(api.socket_ms),
      api_p50_ms_cert: r3(api.cert_ms),
      api_p50_ms_token: r3(api.token_ms),
      api_ratio_token_to_socket: r3(api.token_ms / api.socket_ms),
      overlay_gbps_antispoof_on: r3(med(on)),
      overlay_gbps_antispoof_off: r3(med(off)),
      overlay_ratio_on_to_off: r3(med(on) / med(off)),
    });
  } finally {
    delete process.env.PODWIRE_ANTI_SPOOFING;
    await labDown({ prefix });
  }
  log(`RESULT restart ${JSON.stringify(out)}`);
  return out;
}

interface Gap {
  sent: number;
  lost: number;
  /** the longest time between two consecutive replies (ping -D timestamps) */
  maxGapMs: number;
}
const fmtGap = (g: Gap) => `${g.lost}/${g.sent} lost, longest gap ${g.maxGapMs.toFixed(0)} ms`;

/** A 10 ms ping while `during` runs (started after 1 s); replies' timestamps give the longest gap. */
async function pingGap(ns: string, ip: string, count: number, during: () => Promise<void>): Promise<Gap> {
  const ping = execProcess(
    ['ip', 'netns', 'exec', ns, 'ping', '-n', '-D', '-i', '0.01', '-W', '1', '-c', String(count), ip],
    {
      reject: false,
    },
  );
  await new Promise((r) => setTimeout(r, 1000));
  await during();
  const text = String((await ping).stdout);
  const m = /(\d+) packets transmitted, (\d+) received/.exec(text);
  if (!m) throw new BenchError('ERR_TOOL_FAILED', `ping gave no summary: ${text.slice(-300)}`);
  const times = [...text.matchAll(/^\[(\d+\.\d+)\].*icmp_seq=/gm)].map((x) => Number(x[1]) * 1000);
  let maxGapMs = 0;
  for (let i = 1; i < times.length; i++) maxGapMs = Math.max(maxGapMs, times[i] - times[i - 1]);
  return { sent: Number(m[1]), lost: Number(m[1]) - Number(m[2]), maxGapMs };
}

/** iperf3 (TCP, `seconds`) with `during` run 1.5 s in; its figures, or the error it ended with. */
async function iperfAcross(
  serverNs: string,
  clientNs: string,
  ip: string,
  seconds: number,
  during: () => Promise<void>,
): Promise<{ gbps: number; retransmits: number; error?: string }> {
  const port = 5301;
  const server = execProcess(['ip', 'netns', 'exec', serverNs, 'iperf3', '-s', '-1', '-p', String(port)], {
    reject: false,
  });
  try {
    let client!: ReturnType<typeof execProcess>;
    for (let i = 0; i < 50; i++) {
      client = execProcess(
        ['ip', 'netns', 'exec', clientNs, 'iperf3', '-c', ip, '-p', String(port), '-t', String(seconds), '-J'],
        { reject: false },
      );
      await new Promise((r) => setTimeout(r, 300));
      if (client.exitCode === null || client.exitCode === undefined) break; // connected and running
      await client;
    }
    await new Promise((r) => setTimeout(r, 1200));
    await during();
    const r = await client;
    const j = JSON.parse(String(r.stdout)) as {
      error?: string;
      end?: { sum_received?: { bits_per_second: number }; sum_sent?: { retransmits: number } };
    };
    return {
      gbps: (j.end?.sum_received?.bits_per_second ?? 0) / 1e9,
      retransmits: j.end?.sum_sent?.retransmits ?? -1,
      error: j.error,
    };
  } finally {
    server.kill();
    await server;
  }
}

/**
 * p50 of `n` sequential GET /api/v1/namespaces/default, measured from node1's
 * namespace (the API server's HTTPS address is on the lab's underlay): over
 * the root socket (no authentication, no TLS), HTTPS + the admin client
 * certificate, HTTPS + a ServiceAccount token under RBAC. A small Node
 * program of the standard library alone runs there (node -e).
 */
async function apiLatency(
  state: LabState,
  n: number,
): Promise<{ socket_ms: number; cert_ms: number; token_ms: number }> {
  const ns = state.plan.nodes[0].ns;
  const pki = labPki(state.plan);
  const kubectl = (args: string[]) =>
    execProcess(['ip', 'netns', 'exec', ns, 'kubectl', '--kubeconfig', adminKubeconfigPath(state.plan), ...args], {
      reject: false,
    });
  await kubectl(['create', 'serviceaccount', 'bench-reader', '-n', 'default']);
  await kubectl([
    'create',
    'clusterrolebinding',
    'bench-reader-view',
    '--clusterrole=view',
    '--serviceaccount=default:bench-reader',
  ]);
  const token = String((await kubectl(['create', 'token', 'bench-reader', '-n', 'default'])).stdout).trim();
  if (!token) throw new BenchError('ERR_TOOL_FAILED', 'kubectl create token gave no token');
  const program = `
const http = require('node:http'), https = require('node:https'), fs = require('node:fs');
const cfg = JSON.parse(process.env.PW_BENCH_API);
const url = new URL(cfg.server), path = '/api/v1/namespaces/default';
const ca = fs.readFileSync(cfg.ca), cert = fs.readFileSync(cfg.cert), key = fs.readFileSync(cfg.key);
const tlsAgent = new https.Agent({ keepAlive: true, maxSockets: 1 }), sockAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const get = (mod, o) => new Promise((ok, bad) => mod.get(o, (r) => { r.resume(); r.on('end', () => ok(r.statusCode)); }).on('error', bad));
const tls = { host: url.hostname, port: Number(url.port || 443), path, ca, agent: tlsAgent };
async function p50(f) {
  for (let i = 0; i < 100; i++) await f();
  const xs = [];
  for (let i = 0; i < cfg.n; i++) { const t = performance.now(); const st = await f(); if (st !== 200) throw new Error('status ' + st); xs.push(performance.now() - t); }
  return xs.sort((a, b) => a - b)[xs.length >> 1];
}
(async () => {
  // the token's RoleBinding reaches the authorizer's cache through its watch
  for (let i = 0; i < 100 && (await get(https, { ...tls, headers: { authorization: 'Bearer ' + cfg.token } })) !== 200; i++) await new Promise((r) => setTimeout(r, 100));
  const socket_ms = await p50(() => get(http, { socketPath: cfg.socket, path, agent: sockAgent }));
  const cert_ms = await p50(() => get(https, { ...tls, cert, key }));
  const token_ms = await p50(() => get(https, { ...tls, headers: { authorization: 'Bearer ' + cfg.token } }));
  console.log(JSON.stringify({ socket_ms, cert_ms, token_ms }));
  process.exit(0);
})().catch((e) => { console.error(e.message); process.exit(1); });
`;
  const r = await execProcess(['ip', 'netns', 'exec', ns, process.execPath, '-e', program], {
    reject: false,
    env: {
      ...process.env,
      PW_BENCH_API: JSON.stringify({
        server: labApiServerUrl(state.plan),
        ca: pki.ca.certFile,
        cert: pki.admin.certFile,
        key: pki.admin.keyFile,
        socket: state.plan.controlPlane.socket,
        token,
        n,
      }),
    },
  });
  if (r.exitCode !== 0) throw new BenchError('ERR_TOOL_FAILED', `API latency: ${String(r.stderr).slice(0, 300)}`);
  return JSON.parse(String(r.stdout).trim()) as { socket_ms: number; cert_ms: number; token_ms: number };
}
