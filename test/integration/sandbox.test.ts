import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { labUp, waitFor, type LabState } from '../../src/lab/index.js';
import { ApiClient } from '../../src/control/client/index.js';
import { callAgent } from '../../src/agent/control-server.js';
import { agentSocketPath } from '../../src/agent/agent.js';
import { execaRunner, nsOf } from '../../src/host/index.js';
import { execIdentityArgv, type ExecSpec } from '../../src/kubelet/exec-spec.js';
import { STATE_ROOT, requireRoot, testPrefix, stopLab } from './helpers.js';

// Containers are sandboxes (src/kubelet/runtime.ts): hostile pods try what
// the issue found possible — Secrets through the API server's Unix socket,
// the agent's socket, a file written on the node, other pods' and the
// node's processes — and each attempt fails; securityContext is honoured.
// Every pod reports its attempts in its log, as a hostile manifest would.
const prefix = testPrefix('sb');
let state: LabState;
let client: ApiClient;
const marker = `pwned-${prefix}`;

const pod = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { terminationGracePeriodSeconds: 1, ...spec },
});
// cmdlines: every process's command line, one a line (a pattern like 'sleep 360[1]' does not match the script's own)
const sh = (script: string) => [
  'sh',
  '-c',
  `cmdlines() { for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done; }\n${script}\necho done\nsleep 3600`,
];
const logs = (name: string, container?: string) =>
  client.text(`/api/v1/namespaces/default/pods/${name}/log${container ? `?container=${container}` : ''}`);

/** The report lines of a pod's container ("key: value"), once it has written them all. */
async function report(name: string, container?: string): Promise<Record<string, string>> {
  let text = '';
  await waitFor(`${name} reports`, 60_000, async () => {
    text = await logs(name, container).catch(() => '');
    return text.includes('done\n');
  });
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l.includes(': '))
      .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
  );
}

async function execSpecOf(name: string, container?: string): Promise<ExecSpec> {
  const q = container ? `?container=${container}` : '';
  const r = await callAgent(agentSocketPath(state.plan.nodes[0].stateDir), 'GET', `/pods/${name}/exec${q}`);
  expect(r.status).toBe(200);
  return r.body as ExecSpec;
}

beforeAll(async () => {
  requireRoot();
  state = await labUp({ prefix, nodes: 1, stateRoot: STATE_ROOT, controlPlane: true });
  client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
  const apiSock = state.plan.controlPlane.socket;
  const agentSock = agentSocketPath(state.plan.nodes[0].stateDir);
  await client.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'db' },
    stringData: { password: 'hunter2' },
  });
  await client.create(
    pod('hostile', {
      containers: [
        {
          name: 'c',
          image: 'busybox',
          command: sh(
            [
              `[ -e ${apiSock} ] && echo "apisock: visible" || echo "apisock: absent"`,
              `curl -s -m 3 --unix-socket ${apiSock} http://x/api/v1/namespaces/default/secrets/db >/dev/null 2>&1; echo "secrets: $?"`,
              `curl -s -m 3 --unix-socket ${agentSock} http://x/status >/dev/null 2>&1; echo "agent: $?"`,
              // nothing of the node's /run: no socket, no file (only the busybox links the image needs, bound back);
              // what is there is its own ServiceAccount volume (/var/run/secrets/kubernetes.io/serviceaccount: token, ca.crt, namespace)
              'echo "runsockets: $(find /run -type s | wc -l)"',
              'echo "runfiles: $(find /run -type f -not -path "/run/secrets/kubernetes.io/serviceaccount/*" | wc -l)"',
              'echo "safiles:" $(ls /var/run/secrets/kubernetes.io/serviceaccount)',
              `touch /root/${marker} 2>/dev/null; echo "root: $?"`,
              `touch /usr/${marker} 2>/dev/null; echo "usr: $?"`,
              `touch /etc/${marker} 2>/dev/null; echo "etc: $?"`,
              `touch /tmp/${marker} 2>/dev/null; echo "tmp: $?"`,
              // the other pod's process and the node's (its agent) are not in this pod's /proc
              'sleep 2',
              `echo "otherpod: $(cmdlines | grep -c 'sleep 360[1]')"`,
              `echo "agentproc: $(cmdlines | grep -c 'podwire.js agen[t]')"`,
              `ls -d /proc/[0-9]* | wc -l | sed 's/^ *//; s/^/procs: /'`,
              'echo "hostname: $(hostname)"',
              'echo "etchostname: $(cat /etc/hostname)"',
              'echo "nameserver: $(grep ^nameserver /etc/resolv.conf | head -1)"',
              'echo "uid: $(id -u)"',
              'echo "nnp: $(grep ^NoNewPrivs /proc/self/status | cut -f2)"',
              'echo "capbnd: $(grep ^CapBnd /proc/self/status | cut -f2)"',
              'ip link set lo mtu 1000 2>/dev/null; echo "mtu: $?"',
            ].join('\n'),
          ),
        },
      ],
    }),
  );
  await client.create(pod('other', { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3601'] }] }));
  await client.create(
    pod('secured', {
      securityContext: { runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000] },
      containers: [
        {
          name: 'c',
          image: 'busybox',
          securityContext: { readOnlyRootFilesystem: true },
          command: sh(
            [
              'echo "id: $(id -u):$(id -g)"',
              'echo "groups: $(id -G)"',
              'touch /marker 2>/dev/null; echo "rootfs: $?"',
              'touch /tmp/marker 2>/dev/null; echo "tmp: $?"',
              'echo x >> /etc/hosts 2>/dev/null; echo "hosts: $?"',
              'echo "capeff: $(grep ^CapEff /proc/self/status | cut -f2)"',
            ].join('\n'),
          ),
        },
      ],
    }),
  );
  await client.create(
    pod('netadmin', {
      containers: [
        {
          name: 'c',
          image: 'busybox',
          securityContext: { capabilities: { add: ['NET_ADMIN'] } },
          command: sh(
            'ip link set lo mtu 1000; echo "mtu: $?"\necho "lomtu: $(ip link show lo | grep -o "mtu [0-9]*")"',
          ),
        },
      ],
    }),
  );
  await client.create(
    pod('shared', {
      shareProcessNamespace: true,
      containers: [
        {
          name: 'a',
          image: 'busybox',
          command: sh(
            'sleep 2\necho "sees: $(cmdlines | grep -c "sleep 360[2]")"\necho "pid1: $(tr "\\0" " " < /proc/1/cmdline)"',
          ),
        },
        { name: 'b', image: 'busybox', command: ['sleep', '3602'] },
      ],
    }),
  );
  await client.create(
    pod('apart', {
      containers: [
        {
          name: 'a',
          image: 'busybox',
          command: sh('sleep 2\necho "sees: $(cmdlines | grep -c "sleep 360[3]")"'),
        },
        { name: 'b', image: 'busybox', command: ['sleep', '3603'] },
      ],
    }),
  );
}, 180_000);

afterAll(async () => {
  client?.close();
  for (const d of ['/root', '/usr', '/etc', '/tmp']) fs.rmSync(path.join(d, marker), { force: true });
  await stopLab(prefix);
}, 60_000);

describe('a hostile pod', () => {
  it('cannot reach the API server’s or its agent’s socket: nothing of /run/podwire is in its /run', async () => {
    const r = await report('hostile');
    expect(r.apisock).toBe('absent');
    expect(r.secrets).not.toBe('0');
    expect(r.agent).not.toBe('0');
    expect([r.runsockets, r.runfiles]).toEqual(['0', '0']);
    expect(r.safiles).toBe('ca.crt namespace token');
  });
  it('cannot write the node’s filesystem (/root, /usr, /etc are read-only); its /tmp is its own', async () => {
    const r = await report('hostile');
    expect([r.root, r.usr, r.etc]).toEqual(['1', '1', '1']);
    expect(r.tmp).toBe('0');
    for (const d of ['/root', '/usr', '/etc', '/tmp']) expect(fs.existsSync(path.join(d, marker))).toBe(false);
  });
  it('sees neither another pod’s processes nor the node’s', async () => {
    const r = await report('hostile');
    expect(r.otherpod).toBe('0');
    expect(r.agentproc).toBe('0');
    expect(Number(r.procs)).toBeLessThan(10);
  });
  it('runs with containerd’s default capabilities and no_new_privs: no NET_ADMIN, so not even its own lo’s MTU', async () => {
    const r = await report('hostile');
    expect(r.uid).toBe('0');
    expect(r.nnp).toBe('1');
    // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
    expect(r.capbnd).toBe('00000000a80425fb');
    expect(r.mtu).not.toBe('0');
  });
  it('has its pod’s hostname, /etc/hostname and resolv.conf', async () => {
    const r = await report('hostile');
    expect(r.hostname).toBe('hostile');
    expect(r.etchostname).toBe('hostile');
    expect(r.nameserver).toBe('nameserver 10.96.0.10');
  });
});

describe('securityContext', () => {
  it('runAsUser/runAsGroup/supplementalGroups: the user and groups; no effective capabilities as non-root', async () => {
    const r = await report('secured');
    expect(r.id).toBe('1000:3000');
    expect(r.groups.split(' ').sort()).toEqual(['3000', '4000']);
    expect(r.capeff).toBe('0000000000000000');
  });
  it('readOnlyRootFilesystem: / and the pod’s /etc files read-only, /tmp writable', async () => {
    const r = await report('secured');
    expect(r.rootfs).not.toBe('0');
    expect(r.hosts).not.toBe('0');
    expect(r.tmp).toBe('0');
  });
  it('capabilities.add NET_ADMIN: the container may configure its own pod’s links', async () => {
    const r = await report('netadmin');
    expect(r.mtu).toBe('0');
    expect(r.lomtu).toBe('mtu 1000');
  });
});

describe('PID namespaces as Kubernetes makes them', () => {
  it('shareProcessNamespace: the pod’s containers see each other, the pod’s init (with pause) is PID 1', async () => {
    const r = await report('shared', 'a');
    expect(r.sees).toBe('1');
    expect(r.pid1).toContain('pause');
  });
  it('without it each container has its own', async () => {
    expect((await report('apart', 'a')).sees).toBe('0');
  });
});

describe('exec-spec: what exec enters', () => {
  it('names a process in the container’s namespaces and its identity; entered with nsenter --all + setpriv it is the container', async () => {
    await report('secured');
    const spec = await execSpecOf('secured');
    expect(spec).toMatchObject({ container: 'c', uid: 1000, gid: 3000, groups: [3000, 4000], noNewPrivs: true });
    expect(nsOf(spec.pid, 'mnt')).not.toBe(nsOf(process.pid, 'mnt'));
    expect(nsOf(spec.pid, 'pid')).not.toBe(nsOf(process.pid, 'pid'));
    const r = await execaRunner().run([
      'nsenter',
      '--target',
      String(spec.pid),
      '--all',
      '--root',
      '--wd',
      '--',
      ...execIdentityArgv(spec),
      'sh',
      '-c',
      'id -u; hostname; find /run -type s | wc -l; cat /proc/1/cmdline | tr "\\0" " "',
    ]);
    const [uid, hostname, sockets, pid1] = r.stdout.split('\n');
    expect([uid, hostname, sockets]).toEqual(['1000', 'secured', '0']);
    // its own PID namespace: PID 1 is its sandbox's init, not the node's
    expect(pid1).toContain('bwrap');
  });
});
