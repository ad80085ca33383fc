import http from 'node:http';
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { agentSocketPath } from '../agent/agent.js';
import { CLI_ENTRY, labPods, type LabState } from '../lab/index.js';
import { parseIpv4 } from '../packet/index.js';
import { cidrContains, parseCidr } from '../dataplane/index.js';
import { onJsonLines } from './json-lines.js';
import { explainTrace, formatTrace, parseTarget, type AgentEvent, type InjectReport, type TraceResult } from '../trace/index.js';

const PATH_MTU = 1450;

/** Run a hidden podwire command inside a namespace; resolves with its last JSON line. */
function inNamespace(ns: string, args: string[], onLine?: (line: string) => void, onChild?: (kill: () => void) => void): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, CLI_ENTRY, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const l of d.toString().split('\n')) if (l.trim()) onLine?.(l.trim());
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    onChild?.(() => child.kill('SIGTERM'));
    child.on('exit', (code) => {
      const last = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      if (!last) return reject(new Error(`${args[0]} in ${ns} failed (exit ${code}): ${err.trim()}`));
      resolve(JSON.parse(last));
    });
  });
}

/** Subscribe to every agent's /trace stream; agents that do not answer are reported down. */
async function subscribe(state: LabState, src: string, id: number, events: AgentEvent[], onEvent: (e: AgentEvent) => void = () => {}): Promise<{ close(): void; down: string[] }> {
  const reqs: http.ClientRequest[] = [];
  const down: string[] = [];
  await Promise.all(
    state.plan.nodes.map(
      (n) =>
        new Promise<void>((resolve) => {
          const req = http.get({ socketPath: agentSocketPath(n.stateDir), path: `/trace?src=${src}&id=${id}`, timeout: 2000 }, (res) => {
            // The 2 s are for the agent to answer; after that the stream may be
            // quiet for as long as the probe takes (an idle timeout here would
            // end the subscription, and the agent would stop tracing).
            req.setTimeout(0);
            onJsonLines(res, (o) => {
              events.push(o as AgentEvent);
              onEvent(o as AgentEvent);
            });
            resolve();
          });
          req.on('error', () => {
            down.push(n.name);
            resolve();
          });
          req.on('timeout', () => req.destroy());
          reqs.push(req);
        }),
    ),
  );
  return { close: () => reqs.forEach((r) => r.destroy()), down };
}

export async function trace(state: LabState, srcPod: string, target: string, opts: { ttl?: number; size?: number; timeoutMs?: number }): Promise<{ result: TraceResult; text: string }> {
  const pods = await labPods(state);
  const src = pods.find((p) => p.name === srcPod);
  if (!src) throw new Error(`pod "${srcPod}" not found`);
  const t = parseTarget(target);
  const dstPod = pods.find((p) => p.name === t.host || p.ip === t.host);
  let dstIp: string;
  if (dstPod) dstIp = dstPod.ip;
  else {
    try {
      parseIpv4(t.host);
    } catch {
      const listed = new Set(pods.map((p) => p.node));
      const silent = state.plan.nodes.filter((n) => !listed.has(n.name)).map((n) => n.name);
      throw new Error(
        `"${t.host}" is neither a pod in this lab nor an IPv4 address` +
          (silent.length ? ` (pods on ${silent.join(', ')} could not be listed: no pods there, or the agent is down; trace by IP)` : ''),
      );
    }
    dstIp = t.host;
  }
  const dstNode = dstPod?.node ?? state.plan.nodes.find((n) => cidrContains(parseCidr(n.podCidr), parseIpv4(dstIp)))?.name;
  const id = randomInt(1, 0xffff);
  const events: AgentEvent[] = [];
  // The catcher gives up after its timeout, or as soon as an agent reports the probe dropped.
  let stopCatcher: (() => void) | undefined;
  let dropped = false;
  const sub = await subscribe(state, src.ip, id, events, (e) => {
    if ((e as { stage?: string }).stage === 'drop') {
      dropped = true;
      stopCatcher?.();
    }
  });
  try {
    let catcher: Promise<{ arrived: boolean; ttl?: number }> | null = null;
    if (dstPod) {
      let ready!: () => void;
      const isReady = new Promise<void>((r) => (ready = r));
      catcher = inNamespace(
        dstPod.netns,
        ['trace-catch', '--src', src.ip, '--id', String(id), '--timeout-ms', String(opts.timeoutMs ?? 5000)],
        (l) => {
          if (l === 'ready') ready();
        },
        (kill) => {
          stopCatcher = kill;
          if (dropped) kill();
        },
      ).catch(() => ({ arrived: false }));
      await Promise.race([isReady, catcher]);
    }
    const inject = (await inNamespace(src.netns, [
      'trace-inject', '--pod', src.name, '--dst', dstIp, '--proto', t.proto, '--port', String(t.port), '--id', String(id), '--ttl', String(opts.ttl ?? 64),
      ...(opts.size ? ['--size', String(opts.size)] : []),
    ])) as InjectReport;
    const arrival = catcher ? await catcher : null;
    // let the agents' last events arrive (a drop may come after the catcher gave up)
    await new Promise((r) => setTimeout(r, arrival?.arrived ? 50 : 300));
    const result = explainTrace({
      inject,
      events,
      agentsDown: sub.down,
      srcNode: src.node,
      dst: { ip: dstIp, pod: dstPod?.name, node: dstNode },
      arrival,
      pathMtu: PATH_MTU,
    });
    const title = `trace ${src.name} (${src.ip}, ${src.node}) -> ${dstPod ? `${dstPod.name} (${dstIp}, ${dstPod.node})` : dstIp}${t.port ? `:${t.port}` : ''}/${t.proto}`;
    return { result, text: formatTrace(result, title) };
  } finally {
    sub.close();
  }
}
