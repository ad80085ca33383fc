import os from 'node:os';
import { execProcess } from '../host/index.js';
import { BenchError } from './errors.js';
import { labUp, labDown, waitFor } from '../lab/index.js';
import { ApiClient, type KubeObject } from '../control/client/index.js';
import { streamsResult, type StreamsMeasured } from './streams-figures.js';

/**
 * `npm run bench -- streams`: the streaming subresources as kubectl uses
 * them, in a 2-node lab of the bench's own (pwbstr), in one run:
 *
 *   1. `kubectl exec box -- true`, p50/p99 of its wall time, beside a plain
 *      `kubectl get pod box` by the same kubectl (its start-up and one API
 *      round trip: the floor any kubectl command stands on);
 *   2. one HTTP download of PODWIRE_BENCH_MB (default 50) MB from a busybox
 *      httpd pod on node1, by curl, four ways, each PODWIRE_BENCH_ROUNDS
 *      (default 3) times, interleaved:
 *        - kubectl port-forward, WebSocket tunnel (SPDY/3.1+portforward.k8s.io)
 *        - kubectl port-forward, Upgrade: SPDY/3.1
 *          (both: curl and kubectl in the control plane's namespace → API
 *          server → node1's agent :10250 → a socket in the pod's netns)
 *        - direct, from node1's namespace to the pod's IP (cbr0, node1's agent)
 *        - direct, from node2's namespace to the pod's IP (VXLAN, both agents)
 *      reported as MB/s medians and port-forward / direct ratios.
 * The machine is shared: its load average before and after is in the RESULT.
 * Last line `RESULT streams {…}`.
 */
export interface StreamsBenchOptions {
  megabytes?: number;
  rounds?: number;
  samples?: number;
  log?: (m: string) => void;
}

const PREFIX = 'pwbstr';
const PORT_WS = 18090;
const PORT_SPDY = 18091;

export async function benchStreams(o: StreamsBenchOptions = {}) {
  const log = o.log ?? ((m: string) => console.log(m));
  const bytes = Math.round((o.megabytes ?? 50) * 1e6);
  const rounds = o.rounds ?? 3;
  const samples = o.samples ?? 40;
  const loadBefore = os.loadavg().map((x) => Math.round(x * 100) / 100);
  log(`bench streams: lab ${PREFIX} (2 nodes), ${bytes / 1e6} MB × ${rounds} rounds per path, ${samples} execs`);
  const state = await labUp({ prefix: PREFIX, nodes: 2, controlPlane: true });
  const cp = state.plan.controlPlane;
  const client = new ApiClient(`unix:${cp.socket}`);
  const children: ReturnType<typeof execProcess>[] = [];
  const kubectl = (args: string[], env: Record<string, string> = {}) =>
    execProcess(['ip', 'netns', 'exec', cp.ns, 'kubectl', '-s', `http://${cp.ip}:${cp.port}`, ...args], {
      reject: false,
      env,
      stdin: 'ignore',
      timeout: 60_000,
    });
  try {
    const node1 = state.plan.nodes[0];
    const node2 = state.plan.nodes[1];
    const pods: KubeObject[] = [
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', namespace: 'default' },
        spec: {
          nodeName: node1.name,
          containers: [
            {
              name: 'web',
              image: 'busybox',
              command: [
                'sh',
                '-c',
                `d=/tmp/${PREFIX}-www; mkdir -p $d && head -c ${bytes} /dev/urandom > $d/big && exec httpd -f -p 3000 -h $d`,
              ],
              readinessProbe: { httpGet: { path: '/big', port: 3000 }, periodSeconds: 1 },
            },
          ],
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'box', namespace: 'default' },
        spec: { nodeName: node1.name, containers: [{ name: 'box', image: 'busybox', command: ['sleep', '3600'] }] },
      },
    ];
    for (const p of pods) await client.create(p);
    await waitFor('the bench pods ready', 60_000, async () => {
      const got = await Promise.all(pods.map((p) => client.get('pods', 'default', p.metadata.name)));
      return got.every((p) =>
        (p?.status?.conditions ?? []).some(
          (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
        ),
      );
    });
    const podIp: string = (await client.get('pods', 'default', 'web'))!.status.podIP;
    const version = await kubectl(['version', '-o', 'json']);
    const kubectlVersion: string = JSON.parse(String(version.stdout || '{}'))?.clientVersion?.gitVersion ?? 'unknown';

    // 1. exec round trips, interleaved with gets
    const execMs: number[] = [];
    const getMs: number[] = [];
    const timed = async (args: string[]) => {
      const t0 = process.hrtime.bigint();
      const r = await kubectl(args);
      if (r.exitCode !== 0) throw new BenchError('ERR_TOOL_FAILED', `kubectl ${args.join(' ')}: ${r.stderr}`);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    for (let i = 0; i < samples; i++) {
      getMs.push(await timed(['get', 'pod', 'box']));
      execMs.push(await timed(['exec', 'box', '--', 'true']));
    }
    log(`  exec: ${samples} runs done`);

    // 2. port-forward, both transports, held open for all rounds
    const forward = async (port: number, ws: boolean) => {
      const child = execProcess(
        [
          'ip',
          'netns',
          'exec',
          cp.ns,
          'kubectl',
          '-s',
          `http://${cp.ip}:${cp.port}`,
          'port-forward',
          'pod/web',
          `${port}:3000`,
        ],
        { reject: false, env: { KUBECTL_PORT_FORWARD_WEBSOCKETS: ws ? 'true' : 'false' }, stdin: 'ignore' },
      );
      children.push(child);
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor(`kubectl port-forward :${port}`, 20_000, async () => out.includes('Forwarding from 127.0.0.1'));
    };
    await forward(PORT_WS, true);
    await forward(PORT_SPDY, false);
    const download = async (ns: string, url: string): Promise<number> => {
      const r = await execProcess(
        ['ip', 'netns', 'exec', ns, 'curl', '-sS', '-o', '/dev/null', '-w', '%{size_download} %{speed_download}', url],
        {
          reject: false,
          timeout: 300_000,
        },
      );
      const [size, speed] = String(r.stdout).trim().split(' ').map(Number);
      if (r.exitCode !== 0 || size !== bytes)
        throw new BenchError('ERR_TOOL_FAILED', `curl ${url} in ${ns}: ${size} of ${bytes} bytes: ${r.stderr}`);
      return speed / 1e6;
    };
    const mbps: StreamsMeasured['mbps'] = {
      portForwardWs: [],
      portForwardSpdy: [],
      directSameNode: [],
      directOtherNode: [],
    };
    for (let r = 0; r < rounds; r++) {
      mbps.portForwardWs.push(await download(cp.ns, `http://127.0.0.1:${PORT_WS}/big`));
      mbps.portForwardSpdy.push(await download(cp.ns, `http://127.0.0.1:${PORT_SPDY}/big`));
      mbps.directSameNode.push(await download(node1.ns, `http://${podIp}:3000/big`));
      mbps.directOtherNode.push(await download(node2.ns, `http://${podIp}:3000/big`));
      log(
        `  round ${r + 1}: port-forward ws ${mbps.portForwardWs[r].toFixed(1)} MB/s, spdy ${mbps.portForwardSpdy[r].toFixed(1)}; direct same node ${mbps.directSameNode[r].toFixed(1)}, other node ${mbps.directOtherNode[r].toFixed(1)}`,
      );
    }
    const result = streamsResult({
      execMs,
      getMs,
      mbps,
      bytes,
      kubectl: kubectlVersion,
      loadBefore,
      loadAfter: os.loadavg().map((x) => Math.round(x * 100) / 100),
    });
    log(
      `kubectl ${result.kubectl}: exec -- true p50 ${result.exec.p50Ms} ms, p99 ${result.exec.p99Ms} ms (get pod p50 ${result.exec.getP50Ms} ms; exec/get ${result.exec.p50OverGet})`,
    );
    log(
      `port-forward ${result.portForward.wsMBps} MB/s (WebSocket), ${result.portForward.spdyMBps} MB/s (SPDY); direct ${result.portForward.directSameNodeMBps} MB/s from the pod's node, ${result.portForward.directOtherNodeMBps} MB/s from the other`,
    );
    log(
      `ratios: ws/direct-same-node ${result.portForward.wsOverDirectSameNode}, spdy/direct-same-node ${result.portForward.spdyOverDirectSameNode}, ws/direct-other-node ${result.portForward.wsOverDirectOtherNode}, spdy/direct-other-node ${result.portForward.spdyOverDirectOtherNode}`,
    );
    console.log(`RESULT streams ${JSON.stringify(result)}`);
    return result;
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.allSettled(children);
    client.close();
    await labDown({ prefix: PREFIX });
  }
}
