import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { labUp, waitFor, CLI_ENTRY, type LabState, adminKubeconfigPath } from '../../src/lab/index.js';
import { cloudLbArgv } from '../../src/lab/outside.js';
import { ApiClient, type KubeObject } from '../../src/control/client/index.js';
import { fetchCloudLbStatus } from '../../src/cloudlb/index.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab, inNs } from './helpers.js';

// The lab's outside: a client machine and "the internet" (www) on the
// underlay, and the emulated cloud load balancer giving LoadBalancer
// Services their EXTERNAL-IP, answering ARP for it and passing its frames to
// a node with only the destination MAC rewritten.
const prefix = testPrefix('out');
let state: LabState;
let client: ApiClient;
const env = { PODWIRE_STATE_ROOT: STATE_ROOT, PODWIRE_SERVER: '' };
const podwire = (...args: string[]) =>
  execa(process.execPath, [CLI_ENTRY, '--lab', prefix, ...args], { env, reject: false, timeout: 60_000 });
const labExec = (machine: string, ...argv: string[]) => podwire('lab', 'exec', machine, '--', ...argv);
const macOf = async (ns: string) =>
  JSON.parse((await execa('ip', ['-j', '-n', ns, 'link', 'show', 'eth0'])).stdout)[0].address as string;
const lbService = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }], ...extra },
});
const externalIp = async (name: string) =>
  (await client.tryGet('services', 'default', name))?.status?.loadBalancer?.ingress?.[0]?.ip ?? null;
const waitExternalIp = async (name: string, want: string | null) => {
  await waitFor(`${name}'s EXTERNAL-IP to be ${want}`, 15_000, async () => (await externalIp(name)) === want);
};

beforeAll(async () => {
  requireRoot();
  state = await labUp({ prefix, nodes: 2, stateRoot: STATE_ROOT, controlPlane: true, outside: true });
  client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
}, 120_000);

afterAll(async () => {
  client?.close();
  await stopLab(prefix);
}, 60_000);

describe('lab exec and the outside machines', () => {
  it('the client reaches www: the page names the server and the client’s own source address', async () => {
    const r = await labExec('client', 'curl', '-sS', '--max-time', '5', 'http://172.28.0.200/');
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(r.stdout).toMatch(
      /^www: a server outside the cluster\nserver: 172\.28\.0\.200:80 \(http\)\nclient: 172\.28\.0\.100:\d+\nrequest: GET \/ \(Host: 172\.28\.0\.200\)$/,
    );
  });

  it('HTTPS with -k, and verified against the lab’s self-signed certificate', async () => {
    const k = await labExec('client', 'curl', '-sSk', '--max-time', '5', 'https://172.28.0.200/ip');
    expect(k.stdout).toBe('172.28.0.100');
    const cert = path.join(state.plan.outside.www.stateDir, 'www.crt');
    const v = await labExec('client', 'curl', '-sS', '--max-time', '5', '--cacert', cert, 'https://172.28.0.200/');
    expect(v.exitCode, String(v.stderr)).toBe(0);
    expect(v.stdout).toContain('server: 172.28.0.200:443 (https)');
  });

  it('UDP echo on :7, and a node as the source (what a pod’s egress through its node will show)', async () => {
    const script =
      "const s=require('dgram').createSocket('udp4');s.on('message',m=>{console.log(String(m));s.close()});s.send('hello www',7,'172.28.0.200');setTimeout(()=>process.exit(2),3000).unref()";
    const r = await labExec('client', process.execPath, '-e', script);
    expect(r.stdout).toBe('hello www');
    expect((await labExec('node1', 'curl', '-sS', '--max-time', '5', 'http://172.28.0.200/ip')).stdout).toBe(
      '172.28.0.11',
    );
  });

  it('passes stdout, stderr and the exit code through; the hostname is the machine’s; an unknown machine is an error', async () => {
    const r = await labExec('www', 'sh', '-c', 'hostname; echo oops >&2; exit 7');
    expect([r.stdout, r.stderr, r.exitCode]).toEqual(['www', 'oops', 7]);
    const bad = await labExec('nope', 'true');
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('error: no machine "nope" in lab');
    expect(bad.stderr).toContain('client, www, cloudlb, underlay');
  });

  it('nothing of the outside reaches beyond the lab: the machines have only eth0 on the underlay and no default route', async () => {
    for (const m of [state.plan.outside.client, state.plan.outside.www, state.plan.outside.cloudLb]) {
      const links = JSON.parse((await execa('ip', ['-j', '-n', m.ns, 'link', 'show'])).stdout).map(
        (l: { ifname: string }) => l.ifname,
      );
      expect(links.sort()).toEqual(['eth0', 'lo']);
      expect((await execa('ip', ['-n', m.ns, 'route', 'show', 'default'])).stdout).toBe('');
    }
  });
});

describe('the cloud load balancer', () => {
  it('gives a LoadBalancer Service the first pool address; podwire get and the real kubectl show it', async () => {
    await client.create(lbService('web'));
    await waitExternalIp('web', '172.28.0.240');
    const svc = await client.get('services', 'default', 'web');
    expect(svc.status.loadBalancer.ingress).toEqual([{ ip: '172.28.0.240', ipMode: 'VIP' }]);
    const get = await podwire('get', 'svc', 'web');
    expect(get.stdout, String(get.stderr)).toMatch(
      /^web\s+LoadBalancer\s+10\.96\.\S+\s+172\.28\.0\.240\s+80:3\d{4}\/TCP\s/m,
    );
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'pwt-kubectl-'));
    try {
      const k = await inNs(state.plan.controlPlane.ns, [
        'kubectl',
        '--kubeconfig',
        adminKubeconfigPath(state.plan),
        '--cache-dir',
        cache,
        'get',
        'svc',
        'web',
      ]);
      expect(k.stdout, String(k.stderr)).toMatch(
        /^web\s+LoadBalancer\s+10\.96\.\S+\s+172\.28\.0\.240\s+80:3\d{4}\/TCP\s/m,
      );
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
    const events = (await client.list('events', { namespace: 'default' })).items
      .filter((e) => e.involvedObject?.name === 'web')
      .map((e) => e.reason);
    expect(events).toEqual(expect.arrayContaining(['EnsuringLoadBalancer', 'EnsuredLoadBalancer']));
  });

  it('honours spec.loadBalancerIP in the pool, and leaves one outside it <pending> with a warning', async () => {
    await client.create(lbService('fixed', { loadBalancerIP: '172.28.0.250', externalTrafficPolicy: 'Local' }));
    await client.create(lbService('elsewhere', { loadBalancerIP: '10.9.9.9' }));
    await waitExternalIp('fixed', '172.28.0.250');
    await waitFor('the warning for elsewhere', 10_000, async () =>
      (await client.list('events', { namespace: 'default' })).items.some(
        (e) =>
          e.involvedObject?.name === 'elsewhere' &&
          e.reason === 'SyncLoadBalancerFailed' &&
          e.message.includes('10.9.9.9 is not in the pool'),
      ),
    );
    expect(await externalIp('elsewhere')).toBeNull();
    expect((await podwire('get', 'svc', 'elsewhere')).stdout).toMatch(/<pending>/);
  });

  it('health-checks every node per Service (kube-proxy’s :10256/healthz for Cluster, the healthCheckNodePort for Local) and shows it in /status and lab status', async () => {
    const hcnp = (await client.get('services', 'default', 'fixed')).spec.healthCheckNodePort;
    const st = await fetchCloudLbStatus(state.plan.outside.cloudLb.socket);
    const web = st!.services.find((s) => s.service === 'default/web')!;
    const fixed = st!.services.find((s) => s.service === 'default/fixed')!;
    expect(web.nodes.map((n) => n.url)).toEqual([
      'http://172.28.0.11:10256/healthz',
      'http://172.28.0.12:10256/healthz',
    ]);
    expect(fixed.nodes.map((n) => n.url)).toEqual([`http://172.28.0.11:${hcnp}/`, `http://172.28.0.12:${hcnp}/`]);
    expect(st!.services.find((s) => s.service === 'default/elsewhere')!.problem).toContain('LoadBalancerIPNotInPool');
    // Until the agents serve these endpoints, a refused connection is a failed check: after two, unhealthy.
    // (Once they do, the nodes turn healthy; either way every node has a verdict within a few rounds.)
    await waitFor('a verdict on every node', 15_000, async () =>
      (await fetchCloudLbStatus(state.plan.outside.cloudLb.socket))!.services
        .filter((s) => s.externalIp)
        .every((s) => s.nodes.every((n) => n.health !== 'unknown')),
    );
    const out = await podwire('lab', 'status');
    expect(out.stdout).toContain(
      `cloud load balancer: ${prefix}-clb 172.28.0.3, EXTERNAL-IPs 172.28.0.240-172.28.0.254, running`,
    );
    expect(out.stdout).toMatch(
      /^default\/web\s+172\.28\.0\.240\s+80\/TCP\s+:10256\/healthz \(ETP Cluster\)\s+node1=\S+ node2=\S+/m,
    );
    expect(out.stdout).toMatch(
      new RegExp(`^default/fixed\\s+172\\.28\\.0\\.250\\s+80/TCP\\s+:${hcnp}/ \\(ETP Local\\)`, 'm'),
    );
  });

  it('answers ARP for its EXTERNAL-IP with its own MAC (the client’s neighbour table shows it)', async () => {
    const lbMac = await macOf(state.plan.outside.cloudLb.ns);
    await labExec('client', 'ping', '-c', '1', '-W', '1', '172.28.0.240'); // ICMP is not a Service port: no answer, but ARP first
    const neigh = await inNs(state.plan.outside.client.ns, ['ip', '-j', 'neigh', 'show', '172.28.0.240']);
    expect(JSON.parse(String(neigh.stdout))[0]).toMatchObject({ dst: '172.28.0.240', lladdr: lbMac });
    // and not for a pool address no Service holds
    await labExec('client', 'ping', '-c', '1', '-W', '1', '172.28.0.245');
    const none = JSON.parse(
      String((await inNs(state.plan.outside.client.ns, ['ip', '-j', 'neigh', 'show', '172.28.0.245'])).stdout),
    );
    expect(none.every((n: { lladdr?: string }) => !n.lladdr)).toBe(true);
  });

  it('passes frames for the EXTERNAL-IP to a node, destination MAC the node’s, source MAC its own, IP packet unchanged', async () => {
    const lbMac = await macOf(state.plan.outside.cloudLb.ns);
    const nodeMacs = Object.fromEntries(
      await Promise.all(state.plan.nodes.map(async (n) => [n.name, await macOf(n.ns)] as const)),
    );
    const dumps: { node: string; child: ResultPromise; out: string; ready: boolean }[] = state.plan.nodes.map((n) => {
      const child = execa(
        'ip',
        [
          'netns',
          'exec',
          n.ns,
          'tcpdump',
          '-l',
          '-nn',
          '-e',
          '-i',
          'eth0',
          'tcp dst port 80 and dst host 172.28.0.240',
        ],
        { reject: false, buffer: false },
      );
      const d = { node: n.name, child, out: '', ready: false };
      child.stdout!.on('data', (c: Buffer) => (d.out += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (d.ready ||= c.toString().includes('listening on')));
      return d;
    });
    try {
      await waitFor('tcpdump on every node to listen', 10_000, () => dumps.every((d) => d.ready));
      // new connections (new source ports) until each node has seen one: the hash spreads them
      await waitFor(
        'frames on every node',
        30_000,
        async () => {
          await labExec('client', 'curl', '-s', '--max-time', '1', 'http://172.28.0.240/');
          return dumps.every((d) => d.out.includes('172.28.0.240.80'));
        },
        10,
      );
    } finally {
      for (const d of dumps) d.child.kill('SIGTERM');
      await Promise.all(dumps.map((d) => d.child));
    }
    for (const d of dumps) {
      const lines = d.out
        .trim()
        .split('\n')
        .filter((l) => l.includes('172.28.0.240.80'));
      for (const l of lines)
        expect(l).toMatch(
          new RegExp(
            `^\\S+ ${lbMac} > ${nodeMacs[d.node]}, ethertype IPv4 \\(0x0800\\), length \\d+: 172\\.28\\.0\\.100\\.\\d+ > 172\\.28\\.0\\.240\\.80: Flags \\[S\\]`,
          ),
        );
    }
    const st = await fetchCloudLbStatus(state.plan.outside.cloudLb.socket);
    expect(st!.counters.forwarded).toBeGreaterThanOrEqual(2);
    const web = st!.services.find((s) => s.service === 'default/web')!;
    expect(web.nodes.every((n) => n.frames > 0)).toBe(true);
    const log = fs.readFileSync(path.join(state.plan.outside.cloudLb.stateDir, 'cloudlb.log'), 'utf8');
    expect(log).toMatch(/flow 172\.28\.0\.100:\d+ → 172\.28\.0\.240:80\/TCP \(default\/web\): node[12] /);
  }, 60_000);

  it('leaves out a node labelled node.kubernetes.io/exclude-from-external-load-balancers: its flows go elsewhere', async () => {
    const label = async (value: string | null) =>
      client.patch('nodes', undefined, 'node2', {
        metadata: { labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': value } },
      });
    const frames = async () =>
      Object.fromEntries(
        (await fetchCloudLbStatus(state.plan.outside.cloudLb.socket))!.services
          .find((s) => s.service === 'default/web')!
          .nodes.map((n) => [n.name, n.frames]),
      );
    await label('true');
    try {
      await waitFor('node2 to leave web’s nodes', 10_000, async () => !('node2' in (await frames())));
      const before = (await frames()).node1;
      for (let i = 0; i < 4; i++) await labExec('client', 'curl', '-s', '--max-time', '1', 'http://172.28.0.240/');
      expect((await frames()).node1).toBeGreaterThanOrEqual(before + 4);
    } finally {
      await label(null);
    }
    await waitFor('node2 back', 10_000, async () => 'node2' in (await frames()));
  }, 30_000);

  it('releases the address when the Service goes away or stops being a LoadBalancer', async () => {
    await client.delete('services', 'default', 'elsewhere');
    await client.delete('services', 'default', 'web');
    await waitFor(
      'web to leave the load balancer',
      10_000,
      async () =>
        !(await fetchCloudLbStatus(state.plan.outside.cloudLb.socket))!.services.some(
          (s) => s.service === 'default/web',
        ),
    );
    await client.create(lbService('again'));
    await waitExternalIp('again', '172.28.0.240');
    // type change: status cleared (node ports go with it, as the API requires)
    const fixed = await client.get('services', 'default', 'fixed');
    await client.update({
      ...fixed,
      spec: {
        ...fixed.spec,
        type: 'ClusterIP',
        externalTrafficPolicy: undefined,
        healthCheckNodePort: undefined,
        loadBalancerIP: undefined,
        ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }],
      },
    });
    await waitExternalIp('fixed', null);
    expect((await client.get('services', 'default', 'fixed')).status).toEqual({ loadBalancer: {} });
    // the event is written after the status, by the cloud LB's event recorder: wait for it
    const reasons = async () =>
      (await client.list('events', { namespace: 'default' })).items
        .filter((e) => e.involvedObject?.name === 'fixed')
        .map((e) => e.reason);
    await waitFor('the DeletedLoadBalancer event', 10_000, async () =>
      (await reasons()).includes('DeletedLoadBalancer'),
    ).catch(() => {});
    expect(await reasons()).toContain('DeletedLoadBalancer');
  });
});

// Internet → cloud LB → node → pod, with the agents' Service frontends for
// the EXTERNAL-IP and their health endpoints: the whole path of the articles.
describe('end to end: client → cloud load balancer → node → pod, and pod → www', () => {
  let podName = '';
  let podNode = '';
  let podIp = '';

  beforeAll(async () => {
    await client.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'shop', namespace: 'default' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'shop' } },
        template: {
          metadata: { labels: { app: 'shop' } },
          spec: { containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }] }] },
        },
      },
    });
    await client.create(lbService('shop', { selector: { app: 'shop' }, ports: [{ port: 80, targetPort: 80 }] }));
    await client.create(
      lbService('shop-local', {
        selector: { app: 'shop' },
        externalTrafficPolicy: 'Local',
        ports: [{ port: 8080, targetPort: 80 }],
      }),
    );
    await waitFor('the shop pod to be Ready', 60_000, async () => {
      const p = (await client.list('pods', { namespace: 'default', labelSelector: 'app=shop' })).items[0];
      if (p?.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status !== 'True') return false;
      [podName, podNode, podIp] = [p.metadata.name, p.spec.nodeName, p.status.podIP];
      return true;
    });
    await waitFor(
      'both shop Services to get an EXTERNAL-IP',
      15_000,
      async () => (await externalIp('shop')) !== null && (await externalIp('shop-local')) !== null,
    );
  }, 90_000);

  it('ETP Cluster: the page comes from the pod, through whichever node the hash chose (source: a node’s SNAT address)', async () => {
    const ip = await externalIp('shop');
    expect(ip).toMatch(/^172\.28\.0\.2(4\d|5[0-4])$/);
    await waitFor('kube-proxy’s healthz to pass on every node', 20_000, async () =>
      (await fetchCloudLbStatus(state.plan.outside.cloudLb.socket))!.services
        .find((s) => s.service === 'default/shop')!
        .nodes.every((n) => n.health === 'healthy'),
    );
    for (let i = 0; i < 4; i++) {
      const r = await labExec('client', 'curl', '-sS', '--max-time', '5', `http://${ip}/`);
      expect(r.stdout, String(r.stderr)).toMatch(
        new RegExp(
          `^nginx on pod default/${podName} \\(${podIp.replaceAll('.', '\\.')}:80, node ${podNode}\\): you came from 10\\.244\\.\\d+\\.254:\\d+$`,
        ),
      );
    }
  }, 40_000);

  it('ETP Local: only the pod’s node passes the health check, every connection lands there, and the client’s address is kept', async () => {
    const ip = await externalIp('shop-local');
    await waitFor('the health checks to tell the nodes apart', 20_000, async () => {
      const svc = (await fetchCloudLbStatus(state.plan.outside.cloudLb.socket))!.services.find(
        (s) => s.service === 'default/shop-local',
      )!;
      return svc.nodes.every((n) => n.health === (n.name === podNode ? 'healthy' : 'unhealthy'));
    });
    for (let i = 0; i < 4; i++) {
      const r = await labExec('client', 'curl', '-sS', '--max-time', '5', `http://${ip}:8080/`);
      expect(r.stdout, String(r.stderr)).toMatch(
        new RegExp(`^nginx on pod default/${podName} .*node ${podNode}\\): you came from 172\\.28\\.0\\.100:\\d+$`),
      );
    }
    const frames = (await fetchCloudLbStatus(state.plan.outside.cloudLb.socket))!.services.find(
      (s) => s.service === 'default/shop-local',
    )!.nodes;
    for (const n of frames) if (n.name !== podNode) expect(n.frames, n.name).toBe(0);
    expect((await podwire('lab', 'status')).stdout).toMatch(
      new RegExp(
        `^default/shop-local\\s+${ip!.replaceAll('.', '\\.')}\\s+8080/TCP\\s+:\\d+/ \\(ETP Local\\)\\s+.*${podNode}=healthy`,
        'm',
      ),
    );
  }, 40_000);

  it('pod → www: the request leaves through its node, masqueraded to the node’s address', async () => {
    const r = await podwire('exec', podName, '--', 'curl', '-sS', '--max-time', '5', 'http://172.28.0.200/ip');
    expect(r.stdout, String(r.stderr)).toBe(state.plan.nodes.find((n) => n.name === podNode)!.ip);
  });
});

describe('the cloud load balancer restarted', () => {
  it('keeps its assignments across a restart: read back from the Services’ status, even with a lower address free', async () => {
    await client.create(lbService('second'));
    await waitFor('second to get an EXTERNAL-IP', 15_000, async () => (await externalIp('second')) !== null);
    const lb = state.plan.outside.cloudLb;
    const before = Object.fromEntries(
      (await fetchCloudLbStatus(lb.socket))!.services.map((s) => [s.service, s.externalIp]),
    );
    expect(before['default/again']).toBe('172.28.0.240');
    const old = state.outside!.cloudLb!;
    process.kill(old, 'SIGTERM');
    await waitFor('the old load balancer to exit', 10_000, () => {
      try {
        process.kill(old, 0);
        return false;
      } catch {
        return true;
      }
    });
    // while it is down: the holder of .240 goes, a new Service comes
    await client.delete('services', 'default', 'again');
    await client.create(lbService('third'));
    const restarted = execa(
      'nsenter',
      [`--net=/run/netns/${lb.ns}`, process.execPath, CLI_ENTRY, ...cloudLbArgv(state.plan)],
      { reject: false },
    );
    let output = '';
    try {
      await waitExternalIp('third', '172.28.0.240');
      const after = Object.fromEntries(
        (await fetchCloudLbStatus(lb.socket))!.services.map((s) => [s.service, s.externalIp]),
      );
      const { 'default/again': _gone, ...kept } = before;
      expect(after).toEqual({ ...kept, 'default/third': '172.28.0.240' });
    } finally {
      restarted.kill('SIGTERM');
      output = String((await restarted).stdout);
    }
    expect(output).toContain(`default/second: EXTERNAL-IP ${before['default/second']} (kept: its status holds it)`);
  });
});
