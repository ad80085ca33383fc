import { describe, it, expect } from 'vitest';
import { podStatus, type ContainerView } from '../../../src/kubelet/pod-status.js';
import { hostPathBinds, hostNetworkRecord } from '../../../src/kubelet/pod-host.js';
import { containerSandboxArgv, podSandboxArgv, type SandboxMounts } from '../../../src/host/sandbox.js';
import { validateEphemeralUpdate } from '../../../src/control/api/subresources/ephemeral-containers.js';
import type { KubeObject } from '../../../src/control/api/object.js';
import { podStrategy } from '../../../src/control/api/strategies/pod.js';
import { describePod } from '../../../src/cli/kube/index.js';

// kubectl debug's pure parts: ephemeral containers' status and validation,
// and what `kubectl debug node/…` asks of the node (host namespaces, hostPath).

const NOW = '2026-12-07T06:00:00Z';
const view = (name: string, current: ContainerView['current'], ready = true): ContainerView => ({
  name,
  image: 'busybox',
  current,
  restartCount: 0,
  ready,
  started: current.state === 'running',
});

describe('ephemeral containers in the pod status', () => {
  it('reported apart as the kubelet does: never ready, no restarts, no started; no part of the phase', () => {
    const s = podStatus(
      {
        podIP: '10.244.1.3',
        hostIP: '172.28.0.11',
        restartPolicy: 'Always',
        containers: [view('app', { state: 'running', startedAt: NOW })],
        ephemeral: [
          view('debugger-a', { state: 'running', startedAt: NOW }, false),
          view('debugger-b', { state: 'terminated', exitCode: 2, reason: 'Error', startedAt: NOW, finishedAt: NOW }),
        ],
      },
      undefined,
      NOW,
    );
    expect(s.phase).toBe('Running');
    expect(s.conditions.find((c: { type: string }) => c.type === 'Ready').status).toBe('True');
    expect(s.ephemeralContainerStatuses).toEqual([
      {
        name: 'debugger-a',
        state: { running: { startedAt: NOW } },
        lastState: {},
        ready: false,
        restartCount: 0,
        image: 'busybox',
        imageID: '',
      },
      {
        name: 'debugger-b',
        state: { terminated: { exitCode: 2, reason: 'Error', startedAt: NOW, finishedAt: NOW } },
        lastState: {},
        ready: false,
        restartCount: 0,
        image: 'busybox',
        imageID: '',
      },
    ]);
    // none: no field at all (the status a pod without kubectl debug always had)
    const plain = podStatus(
      { podIP: '10.244.1.3', hostIP: '172.28.0.11', restartPolicy: 'Always', containers: [], ephemeral: [] },
      undefined,
      NOW,
    );
    expect('ephemeralContainerStatuses' in plain).toBe(false);
  });
});

describe('podwire describe pod', () => {
  it('renders an Ephemeral Containers section after Containers, as kubectl describe does', () => {
    const pod = {
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        nodeName: 'node1',
        containers: [{ name: 'app', image: 'nginx' }],
        ephemeralContainers: [
          { name: 'debugger-x', image: 'nicolaka/netshoot', command: ['sh'], targetContainerName: 'app' },
        ],
      },
      status: {
        phase: 'Running',
        containerStatuses: [{ name: 'app', state: { running: { startedAt: NOW } }, ready: true, restartCount: 0 }],
        ephemeralContainerStatuses: [
          {
            name: 'debugger-x',
            state: { terminated: { exitCode: 2, reason: 'Error', startedAt: NOW, finishedAt: NOW } },
          },
        ],
      },
    };
    const out = describePod(pod, { events: null }, Date.parse(NOW));
    const eph = out.slice(out.indexOf('Ephemeral Containers:\n'));
    expect(out.indexOf('Ephemeral Containers:')).toBeGreaterThan(out.indexOf('Containers:\n  app:'));
    expect(eph).toMatch(/^Ephemeral Containers:\n  debugger-x:\n/);
    expect(eph).toMatch(/Image:\s+nicolaka\/netshoot/);
    expect(eph).toMatch(/State:\s+Terminated\n\s+Reason:\s+Error\n\s+Exit Code:\s+2/);
    // none: no section
    expect(describePod({ ...pod, spec: { ...pod.spec, ephemeralContainers: [] } }, { events: null }, 0)).not.toContain(
      'Ephemeral',
    );
  });
});

describe('pods/ephemeralcontainers validation: Kubernetes’ allow list', () => {
  const pod = (eph: unknown[] = [], volumes: unknown[] = []): KubeObject =>
    ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'default' },
      spec: { containers: [{ name: 'app', image: 'nginx' }], volumes, ephemeralContainers: eph },
    }) as KubeObject;
  const dbg = { name: 'debugger-x', image: 'nicolaka/netshoot', stdin: true, tty: true, resources: {} };
  const fields = (next: KubeObject) => validateEphemeralUpdate(pod([], next.spec?.volumes), next).map((c) => c.field);

  it('refuses probes, lifecycle, resources, resizePolicy and restartPolicy; kubectl’s empty resources pass', () => {
    expect(fields(pod([dbg]))).toEqual([]);
    expect(
      fields(
        pod([
          {
            ...dbg,
            readinessProbe: { exec: { command: ['true'] } },
            resources: { limits: { cpu: '1' } },
            resizePolicy: [{ resourceName: 'cpu', restartPolicy: 'NotRequired' }],
            restartPolicy: 'Always',
          },
        ]),
      ),
    ).toEqual([
      'spec.ephemeralContainers[0].resources',
      'spec.ephemeralContainers[0].readinessProbe',
      'spec.ephemeralContainers[0].resizePolicy',
      'spec.ephemeralContainers[0].restartPolicy',
    ]);
  });

  it('volume mounts: an existing volume, no subPath', () => {
    const vols = [{ name: 'data', emptyDir: {} }];
    expect(fields(pod([{ ...dbg, volumeMounts: [{ name: 'data', mountPath: '/d' }] }], vols))).toEqual([]);
    expect(
      fields(
        pod(
          [
            {
              ...dbg,
              volumeMounts: [
                { name: 'data', mountPath: '/d', subPath: 'x' },
                { name: 'nope', mountPath: '/n' },
              ],
            },
          ],
          vols,
        ),
      ),
    ).toEqual([
      'spec.ephemeralContainers[0].volumeMounts[0].subPath',
      'spec.ephemeralContainers[0].volumeMounts[1].name',
    ]);
  });
});

describe('a Pod may not be created with ephemeral containers', () => {
  it('Invalid: spec.ephemeralContainers cannot be set on create; an update passes (the subresource’s own)', async () => {
    const p = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'default' },
      spec: { containers: [{ name: 'app', image: 'nginx' }], ephemeralContainers: [{ name: 'd', image: 'busybox' }] },
    } as KubeObject;
    const t = {} as Parameters<NonNullable<typeof podStrategy.beforeWrite>>[0];
    await expect(podStrategy.beforeWrite!(t, p, null)).rejects.toMatchObject({
      reason: 'Invalid',
      details: { causes: [{ field: 'spec.ephemeralContainers', message: 'cannot be set on create' }] },
    });
    await expect(podStrategy.beforeWrite!(t, p, p)).resolves.toBe(p);
    const plain = { ...p, spec: { containers: p.spec!.containers } } as KubeObject;
    await expect(podStrategy.beforeWrite!(t, plain, null)).resolves.toBe(plain);
  });
});

describe('kubectl debug node/…: the node’s namespaces and files', () => {
  // what kubectl 1.30's legacy profile sends for `kubectl debug node/node1 -it --image=busybox`
  const spec = {
    hostNetwork: true,
    hostPID: true,
    hostIPC: true,
    volumes: [
      { name: 'host-root', hostPath: { path: '/', type: '' } },
      { name: 'scratch', emptyDir: {} },
    ],
  };
  const c = {
    volumeMounts: [
      { name: 'host-root', mountPath: '/host' },
      { name: 'scratch', mountPath: '/scratch' },
    ],
  };

  it('hostPath volumes bind the node’s path: read-only unless the container is privileged or the mount says so', () => {
    expect(hostPathBinds(spec, c, false)).toEqual([{ src: '/', dest: '/host', readOnly: true }]);
    expect(hostPathBinds(spec, c, true)).toEqual([{ src: '/', dest: '/host', readOnly: false }]);
    expect(
      hostPathBinds(spec, { volumeMounts: [{ name: 'host-root', mountPath: '/host', readOnly: true }] }, true),
    ).toEqual([{ src: '/', dest: '/host', readOnly: true }]);
  });

  it('a hostNetwork pod’s record: the node’s address, no namespace or veth of its own', () => {
    const r = hostNetworkRecord('node-debugger-node1-x', 'default', 'u1', '172.28.0.11');
    expect(r).toMatchObject({ name: 'node-debugger-node1-x', uid: 'u1', ip: '172.28.0.11', netns: '', hostVeth: '' });
  });

  const mounts: SandboxMounts = { readOnlyRoot: true, tmpfs: [], binds: [], hostDev: false };

  it('host namespaces: no --net, no --ipc, no PID namespace of its own', () => {
    const argv = containerSandboxArgv({
      netns: null,
      hostIpc: true,
      hostPid: true,
      podPid: 42,
      podPidnsFd: null,
      mounts,
      caps: [],
      cwd: '/',
      argv: ['sh'],
    });
    const nsenter = argv.slice(0, argv.indexOf('--'));
    expect(nsenter.slice(1)).toEqual(['--uts=/proc/42/ns/uts']);
    expect(argv).not.toContain('--unshare-pid');
    expect(argv).not.toContain('--pidns');
    const pause = podSandboxArgv({ netns: null, hostname: 'node1', mounts, pause: ['pause'] });
    expect(pause.slice(1, pause.indexOf('--'))).toEqual([]);
    // a pod's own namespaces as before
    const own = containerSandboxArgv({
      netns: 'pw-pod-x',
      podPid: 42,
      podPidnsFd: 3,
      mounts,
      caps: [],
      cwd: '/',
      argv: ['sh'],
    });
    expect(own.slice(1, own.indexOf('--'))).toEqual([
      '--net=/run/netns/pw-pod-x',
      '--uts=/proc/42/ns/uts',
      '--ipc=/proc/42/ns/ipc',
    ]);
    expect(own.join(' ')).toContain('--pidns 3');
  });

  it('a mount point the node lacks: the node’s / entry by entry on the sandbox’s root, then read-only', () => {
    const argv = containerSandboxArgv({
      netns: null,
      podPid: 42,
      podPidnsFd: null,
      mounts: {
        ...mounts,
        binds: [{ src: '/', dest: '/host', readOnly: true }],
        rootEntries: [{ path: '/bin', symlink: 'usr/bin' }, { path: '/usr' }],
      },
      caps: [],
      cwd: '/',
      argv: ['sh'],
    }).join(' ');
    expect(argv).toContain('--symlink usr/bin /bin --ro-bind /usr /usr');
    expect(argv).not.toContain('--ro-bind / / ');
    expect(argv).toContain('--ro-bind / /host');
    expect(argv.indexOf('--remount-ro /')).toBeGreaterThan(argv.indexOf('--dev /dev'));
  });
});
