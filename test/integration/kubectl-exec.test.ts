import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import crypto from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { execa } from 'execa';
import { labUp, waitFor, type LabState, adminKubeconfigPath } from '../../src/lab/index.js';
import { ApiClient, type KubeObject } from '../../src/control/client/index.js';
import { applyClusterDns } from '../../src/lab/cluster-dns.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab, labProcesses } from './helpers.js';

// The real kubectl (Debian's, 1.32) against a 2-node lab: exec over
// WebSocket (v5.channel.k8s.io) through the API server to the agent of the
// pod's node, which enters the container's namespaces — exit codes, stdin,
// -c, a TTY sized by the client, cp both ways (tar through exec), a client
// that disconnects, kubectl's usual errors.
const prefix = testPrefix('kx');
let state: LabState;
let client: ApiClient;
let kubectlArgs: string[] = [];
const tmp = fs.mkdtempSync('/tmp/pw-kexec-');

const kubectl = (args: string[], opts: { input?: string | Buffer; timeout?: number } = {}) =>
  execa('ip', [...kubectlArgs, ...args], {
    reject: false,
    timeout: opts.timeout ?? 30_000,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
    stripFinalNewline: false,
  });

/** kubectl on a terminal: util-linux script gives it a PTY of 41 rows by 132 columns; -e returns its exit code. */
const onTty = (args: string[], input?: string, delayMs = 0) => {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return execa(
    'script',
    ['-qec', `stty rows 41 cols 132; ip ${[...kubectlArgs, ...args].map(q).join(' ')}`, '/dev/null'],
    {
      reject: false,
      timeout: 30_000,
      // the input after delayMs (once kubectl is attached): a terminal's typing is not buffered before that
      ...(input !== undefined ? { input: Readable.from(delayed(input, delayMs)) } : { stdin: 'ignore' as const }),
    },
  );
};

async function* delayed(text: string, ms: number) {
  await new Promise((r) => setTimeout(r, ms));
  yield text;
  await new Promise((r) => setTimeout(r, 1500));
}

const pods: KubeObject[] = [
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'box', namespace: 'default' },
    spec: { containers: [{ name: 'box', image: 'busybox', command: ['sleep', '3600'] }] },
  },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'two', namespace: 'default' },
    spec: {
      containers: [
        { name: 'main', image: 'busybox', command: ['sleep', '3600'], env: [{ name: 'WHO', value: 'main' }] },
        { name: 'side', image: 'busybox', command: ['sleep', '3600'], env: [{ name: 'WHO', value: 'side' }] },
      ],
    },
  },
];

beforeAll(async () => {
  requireRoot();
  state = await labUp({ prefix, nodes: 2, stateRoot: STATE_ROOT, controlPlane: true });
  const cp = state.plan.controlPlane;
  kubectlArgs = ['netns', 'exec', cp.ns, 'kubectl', '--kubeconfig', adminKubeconfigPath(state.plan)];
  client = new ApiClient(`unix:${cp.socket}`);
  for (const p of pods) await client.create(p);
  await waitFor('the pods running', 30_000, async () => {
    const got = await Promise.all(pods.map((p) => client.get('pods', 'default', p.metadata.name)));
    return got.every((p) => p?.status?.phase === 'Running');
  });
}, 90_000);

afterAll(async () => {
  client?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  await stopLab(prefix);
}, 60_000);

describe('kubectl exec', () => {
  it('propagates the exit code; stdout and stderr apart', async () => {
    const r = await kubectl(['exec', 'box', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toContain('err\n');
    expect(r.stderr).toContain('command terminated with exit code 3');
    expect((await kubectl(['exec', 'box', '--', 'true'])).exitCode).toBe(0);
    const missing = await kubectl(['exec', 'box', '--', 'no-such-command']);
    expect(missing.exitCode).toBe(127);
  });

  it('pipes stdin (-i) and enters the container: its hostname, PID namespace and environment', async () => {
    const r = await kubectl(['exec', '-i', 'box', '--', 'sh', '-c', 'wc -c; hostname'], { input: 'x'.repeat(50_000) });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split('\n').map((l) => l.trim())).toEqual(['50000', 'box', '']);
    const side = await kubectl(['exec', 'two', '-c', 'side', '--', 'sh', '-c', 'echo $WHO']);
    expect(side.stdout).toBe('side\n');
    // without -c: kubectl picks the first container (and says so)
    const first = await kubectl(['exec', 'two', '--', 'sh', '-c', 'echo $WHO']);
    expect(first.stdout).toBe('main\n');
  });

  it('-t: a terminal of the client’s size; the exit code comes back', async () => {
    const r = await onTty(['exec', '-it', 'box', '--', 'sh', '-c', 'stty size; [ -t 0 ] && echo on-a-tty; exit 4']);
    expect(r.stdout).toContain('41 132');
    expect(r.stdout).toContain('on-a-tty');
    expect(r.exitCode).toBe(4);
  });

  it('an unknown container or pod: kubectl’s errors, at once', async () => {
    const t0 = Date.now();
    const c = await kubectl(['exec', 'two', '-c', 'nope', '--', 'true']);
    expect(c.exitCode).toBe(1);
    expect(c.stderr).toContain('Error from server (BadRequest): container nope is not valid for pod two');
    const p = await kubectl(['exec', 'ghost', '--', 'true']);
    expect(p.stderr).toContain('Error from server (NotFound): pods "ghost" not found');
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('a client that goes away mid-stream leaves no process behind', async () => {
    const n = 500_000 + Math.floor(Math.random() * 400_000);
    const k = kubectl(['exec', 'box', '--', 'sh', '-c', `sleep ${n} & sleep ${n + 1}`], { timeout: 60_000 });
    const mine = [`sleep\0${n}\0`, `sleep\0${n + 1}\0`];
    const running = () =>
      fs
        .readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .filter((d) => {
          try {
            return mine.includes(fs.readFileSync(`/proc/${d}/cmdline`, 'utf8'));
          } catch {
            return false;
          }
        });
    await waitFor('both sleeps running in the container', 10_000, async () => running().length === 2);
    k.kill('SIGKILL');
    await k;
    await waitFor('no sleep left', 5_000, async () => running().length === 0);
  });
});

describe('kubectl cp', () => {
  it('copies a file into the container and back, byte for byte', async () => {
    const data = crypto.randomBytes(1 << 20);
    const sum = crypto.createHash('sha256').update(data).digest('hex');
    const src = path.join(tmp, 'in.bin');
    fs.writeFileSync(src, data);
    const up = await kubectl(['cp', src, 'box:/tmp/in.bin']);
    expect(up.exitCode, up.stderr).toBe(0);
    const inside = await kubectl(['exec', 'box', '--', 'sha256sum', '/tmp/in.bin']);
    expect(inside.stdout.split(' ')[0]).toBe(sum);
    const back = path.join(tmp, 'back.bin');
    const down = await kubectl(['cp', 'box:/tmp/in.bin', back]);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(crypto.createHash('sha256').update(fs.readFileSync(back)).digest('hex')).toBe(sum);
  });
});

describe('kubectl run -it --rm and attach', () => {
  // retried: the input is typed 4 s after kubectl starts; under load kubectl
  // may not be attached by then, and a terminal's typing is not kept for it
  it(
    'run -it --rm --restart=Never: a shell on the container’s console, the pod deleted afterwards',
    { retry: 2 },
    async () => {
      await client.delete('pods', 'default', 'shell', { gracePeriodSeconds: 0 }).catch(() => {});
      await waitFor(
        'no pod left by an earlier try',
        15_000,
        async () => (await client.tryGet('pods', 'default', 'shell')) === null,
      );
      const r = await onTty(
        ['run', 'shell', '-it', '--rm', '--restart=Never', '--image=busybox', '--', 'sh'],
        'echo ran-in-$(hostname)\nexit\n',
        4000,
      );
      expect(r.stdout).toContain('ran-in-shell');
      expect(r.stdout).toContain('pod "shell" deleted');
      expect(r.exitCode, r.stdout).toBe(0);
      await waitFor('the pod gone', 15_000, async () => (await client.tryGet('pods', 'default', 'shell')) === null);
    },
  );

  it('attach reaches a running container’s terminal', async () => {
    await client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'console', namespace: 'default' },
      spec: {
        containers: [
          {
            name: 'c',
            image: 'busybox',
            stdin: true,
            tty: true,
            command: ['sh', '-c', 'while read l; do echo "got: $l"; done'],
          },
        ],
      },
    });
    await waitFor('the console pod running', 30_000, async () => {
      return (await client.get('pods', 'default', 'console'))?.status?.phase === 'Running';
    });
    const r = await onTty(['attach', '-it', 'console'], 'hello-console\n', 2000);
    expect(r.stdout).toContain('got: hello-console');
  });
});

describe('console containers, stdin without a tty, exec over SPDY', () => {
  // kubectl with an environment of its own (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false: SPDY only, kubectl 1.30's fallback)
  const kubectlWith = (args: string[], o: { input?: string; env?: Record<string, string> } = {}) =>
    execa('ip', [...kubectlArgs, ...args], {
      reject: false,
      timeout: 40_000,
      env: o.env,
      ...(o.input !== undefined ? { input: o.input } : { stdin: 'ignore' as const }),
      stripFinalNewline: false,
    });
  const gone = (name: string) =>
    waitFor(`pod ${name} gone`, 20_000, async () => (await client.tryGet('pods', 'default', name)) === null);

  beforeAll(async () => {
    await applyClusterDns(state, { ready: true });
  }, 90_000);

  it('kubectl logs of a tty container: what it printed on its terminal', async () => {
    await client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'ttylog', namespace: 'default' },
      spec: {
        containers: [
          {
            name: 'c',
            image: 'busybox',
            stdin: true,
            tty: true,
            command: ['sh', '-c', '[ -t 1 ] && echo "on a terminal: $TERM"; echo oops >&2; exec sleep 3600'],
          },
        ],
      },
    });
    let logs = '';
    await waitFor('the tty container’s log', 30_000, async () => {
      logs = (await kubectl(['logs', 'ttylog'])).stdout;
      return logs.includes('oops');
    });
    // a terminal's output: CR LF line ends, stderr on it too
    expect(logs).toBe('on a terminal: xterm\r\noops\r\n');
    await client.delete('pods', 'default', 'ttylog', { gracePeriodSeconds: 0 });
  });

  it('run -i --rm with a short command prints its answer (3 times in a row), the pod deleted after', async () => {
    for (let i = 0; i < 3; i++) {
      const name = `dig${i}`;
      const r = await kubectlWith([
        'run',
        name,
        '--rm',
        '-i',
        '--restart=Never',
        '--image=nicolaka/netshoot',
        '--',
        'dig',
        '+short',
        'kubernetes.default.svc.cluster.local',
      ]);
      expect(r.stdout, r.stderr).toBe(`10.96.0.1\npod "${name}" deleted\n`);
      expect(r.exitCode).toBe(0);
      await gone(name);
    }
  });

  it('run -i fed by a pipe: pipes, not a terminal — the shell ends at EOF, stderr apart', async () => {
    const r = await kubectlWith(['run', 'piped', '--rm', '-i', '--restart=Never', '--image=busybox', '--', 'sh'], {
      input: '[ -t 0 ] || echo "stdin is a pipe"\necho to-stderr >&2\nread l || echo "EOF after: $l"\n',
    });
    // the last line had no successor: read hit EOF (the shell would wait forever on a terminal)
    expect(r.stdout).toBe('stdin is a pipe\nEOF after: \npod "piped" deleted\n');
    expect(r.stderr).toContain('to-stderr');
    expect(r.exitCode).toBe(0);
    await gone('piped');
  });

  it('exec -i without -t: EOF on the pipe ends cat; stdout and stderr apart', async () => {
    const r = await kubectlWith(['exec', '-i', 'box', '--', 'sh', '-c', 'cat; echo done; echo err >&2'], {
      input: 'line one\nline two',
    });
    expect(r.stdout).toBe('line one\nline twodone\n');
    expect(r.stderr).toBe('err\n');
    expect(r.exitCode).toBe(0);
  });

  it('exec over SPDY (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false): stdin, stderr apart, the exit code', async () => {
    const r = await kubectlWith(['-v=6', 'exec', '-i', 'box', '--', 'sh', '-c', 'wc -c; echo e >&2; exit 5'], {
      input: 'x'.repeat(100_000),
      env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' },
    });
    expect(r.stdout.trim()).toBe('100000');
    expect(r.stderr).toContain('e\n');
    // kubectl's log names the upgrade it made: SPDY's POST, no WebSocket's GET
    expect(r.stderr).toMatch(/POST \S+\/pods\/box\/exec\?\S* 101 Switching Protocols/);
    expect(r.stderr).not.toMatch(/websocket\.go|GET \S+\/exec\?/);
    expect(r.exitCode).toBe(5);
  });

  it('attach over SPDY: run -i fed by a pipe, its EOF and its exit code', async () => {
    const r = await kubectlWith(
      ['run', 'spdy-attach', '--rm', '-i', '--restart=Never', '--image=busybox', '--', 'sh'],
      {
        input: 'echo from-spdy\necho e >&2\nread l || exit 4\n',
        env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' },
      },
    );
    expect(r.stdout).toBe('from-spdy\npod "spdy-attach" deleted\n');
    expect(r.stderr).toContain('e\n');
    expect(r.exitCode).toBe(4);
    await gone('spdy-attach');
  });
});

// Before the node-gone case below, which kills an agent.
describe('kubectl debug: ephemeral containers and node/…', () => {
  beforeAll(async () => {
    await applyClusterDns(state, { ready: true }); // nslookup kubernetes (already there when the block above ran)
  }, 90_000);

  // retried: the shell's input is typed 5 s after kubectl starts; under load kubectl may not be attached yet
  it(
    'debug -it --target: a shell in the pod that sees the target’s processes and the cluster DNS; describe shows it',
    { retry: 2 },
    async () => {
      const r = await onTty(
        ['debug', '-it', 'box', '--image=nicolaka/netshoot', '--target=box', '--', 'sh'],
        'ps -eo args; nslookup kubernetes; exit\n',
        5000,
      );
      const name = /Defaulting debug container name to (\S+)\./.exec(r.stdout)?.[1];
      expect(name, r.stdout).toBeDefined();
      expect(r.stdout).toMatch(/^sleep 3600\r?$/m); // box's own process: the target's PID namespace
      expect(r.stdout).toContain('Name:\tkubernetes.default.svc.cluster.local');
      expect(r.stdout).toContain('Address: 10.96.0.1');
      // never restarted: terminated once its shell exits, and kubectl describe renders it from the status
      await waitFor('the ephemeral container terminated', 10_000, async () => {
        const pod = await client.get('pods', 'default', 'box');
        return pod?.status?.ephemeralContainerStatuses?.find((s: { name: string }) => s.name === name)?.state
          ?.terminated;
      });
      const d = await kubectl(['describe', 'pod', 'box']);
      const eph = d.stdout.slice(d.stdout.indexOf('Ephemeral Containers:'));
      expect(d.stdout).toContain('Ephemeral Containers:');
      expect(eph).toContain(`  ${name}:\n`);
      expect(eph).toMatch(/Image:\s+nicolaka\/netshoot/);
      expect(eph).toMatch(/State:\s+Terminated/);
    },
  );

  it(
    'debug node/NODE -it: the node’s network namespace (its underlay address, cbr0) and its files at /host',
    { retry: 2 },
    async () => {
      const node = state.plan.nodes[1];
      const r = await onTty(
        ['debug', `node/${node.name}`, '-it', '--image=busybox', '--', 'sh'],
        'ip addr; hostname; ls /host/etc/os-release; exit\n',
        5000,
      );
      const pod = /Creating debugging pod (\S+) with container/.exec(r.stdout)?.[1];
      try {
        expect(pod, r.stdout).toBeDefined();
        expect(r.stdout).toContain(`inet ${node.ip}/`);
        expect(r.stdout).toMatch(/inet 10\.244\.\d+\.1\/24 .*cbr0/);
        expect(r.stdout).toMatch(new RegExp(`^${node.name}\\r?$`, 'm'));
        expect(r.stdout).toContain('/host/etc/os-release');
        const p = await client.get('pods', 'default', pod!);
        expect(p?.status?.podIP).toBe(node.ip);
      } finally {
        if (pod) await client.delete('pods', 'default', pod, { gracePeriodSeconds: 0 }).catch(() => {});
      }
    },
  );
});

describe('a pod whose node is gone', () => {
  it('exec reports the agent unreachable instead of hanging', async () => {
    const pod = await client.get('pods', 'default', 'box');
    const node = pod!.spec.nodeName as string;
    const agent = labProcesses(prefix).find((l) => l.includes(' agent ') && l.includes(`--node ${node} `));
    expect(agent, labProcesses(prefix).join('\n')).toBeDefined();
    process.kill(Number(agent!.split(' ')[0]), 'SIGKILL');
    const t0 = Date.now();
    const r = await kubectl(['exec', 'box', '--', 'true']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/error dialing backend: dial tcp [\d.]+:10250/);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });
});
