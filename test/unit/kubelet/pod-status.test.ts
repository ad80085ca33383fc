import { describe, it, expect } from 'vitest';
import {
  podStatus,
  podPhase,
  canonicalJson,
  type PodView,
  type ContainerView,
} from '../../../src/kubelet/pod-status.js';
import { expand } from '../../../src/kubelet/container-env.js';
import { tailLines } from '../../../src/kubelet/log-server.js';
import { ProbeState, resolvePort } from '../../../src/kubelet/probes.js';

const T0 = '2026-11-23T10:00:00Z';
const T1 = '2026-11-23T10:00:05Z';
const running = (name: string, ready = true): ContainerView => ({
  name,
  image: 'nginx',
  current: { state: 'running', startedAt: T0 },
  restartCount: 0,
  ready,
  started: true,
});
const view = (containers: ContainerView[], extra: Partial<PodView> = {}): PodView => ({
  podIP: '10.244.1.2',
  hostIP: '172.28.0.11',
  startTime: T0,
  restartPolicy: 'Always',
  containers,
  ...extra,
});

describe('pod status as the kubelet reports it', () => {
  it('Running and Ready when every container runs and is ready', () => {
    const s = podStatus(view([running('a'), running('b')]), undefined, T0);
    expect(s.phase).toBe('Running');
    expect(s.conditions.map((c: { type: string; status: string }) => `${c.type}=${c.status}`)).toEqual([
      'PodReadyToStartContainers=True',
      'Initialized=True',
      'Ready=True',
      'ContainersReady=True',
      'PodScheduled=True',
    ]);
    expect(s.podIPs).toEqual([{ ip: '10.244.1.2' }]);
    expect(s.containerStatuses[0]).toMatchObject({
      name: 'a',
      ready: true,
      restartCount: 0,
      state: { running: { startedAt: T0 } },
      lastState: {},
    });
  });

  it('names the unready containers, and keeps lastTransitionTime while a condition holds', () => {
    const first = podStatus(view([running('a'), running('b', false)]), undefined, T0);
    const ready = first.conditions.find((c: { type: string }) => c.type === 'Ready');
    expect(ready).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [b]',
      lastTransitionTime: T0,
    });
    const again = podStatus(view([running('a'), running('b', false)]), first, T1);
    expect(canonicalJson(again)).toBe(canonicalJson(first));
    const flipped = podStatus(view([running('a'), running('b')]), first, T1);
    expect(flipped.conditions.find((c: { type: string }) => c.type === 'Ready').lastTransitionTime).toBe(T1);
  });

  it('phase: Pending without an IP, Running while restarting, Succeeded/Failed when done under Never/OnFailure', () => {
    expect(podPhase(view([running('a')], { podIP: undefined }))).toBe('Pending');
    const crashed: ContainerView = {
      name: 'a',
      image: 'busybox',
      current: { state: 'waiting', reason: 'CrashLoopBackOff' },
      last: { state: 'terminated', exitCode: 1, reason: 'Error', finishedAt: T0 },
      restartCount: 2,
      ready: false,
      started: false,
    };
    expect(podPhase(view([crashed]))).toBe('Running');
    const done = (code: number): ContainerView => ({
      name: 'a',
      image: 'busybox',
      current: { state: 'terminated', exitCode: code, reason: code ? 'Error' : 'Completed', finishedAt: T0 },
      restartCount: 0,
      ready: false,
      started: false,
    });
    expect(podPhase(view([done(0)], { restartPolicy: 'Never' }))).toBe('Succeeded');
    expect(podPhase(view([done(0), done(3)], { restartPolicy: 'OnFailure' }))).toBe('Failed');
    const creating: ContainerView = {
      name: 'a',
      image: 'x',
      current: { state: 'waiting', reason: 'ContainerCreating' },
      restartCount: 0,
      ready: false,
      started: false,
    };
    expect(podPhase(view([creating]))).toBe('Pending');
  });

  it('a sandbox that could not be made shows in the status', () => {
    const s = podStatus(
      view([], { podIP: undefined, sandboxError: 'Failed to create pod sandbox: no free address' }),
      undefined,
      T0,
    );
    expect(s).toMatchObject({
      phase: 'Pending',
      reason: 'SandboxFailed',
      message: 'Failed to create pod sandbox: no free address',
    });
  });
});

describe('container environment and helpers', () => {
  it('expands $(VAR) from earlier variables, $$ escapes, unknown left as is', () => {
    expect(expand('http://$(POD_IP):$(PORT)/$$x/$(NOPE)', { POD_IP: '10.244.1.2', PORT: '80' })).toBe(
      'http://10.244.1.2:80/$x/$(NOPE)',
    );
  });
  it('tails lines like kubectl logs --tail', () => {
    expect(tailLines('a\nb\nc\n', 2)).toBe('b\nc\n');
    expect(tailLines('a\nb\nc', 1)).toBe('c');
    expect(tailLines('a\n', 0)).toBe('');
    expect(tailLines('a\nb\n', 10)).toBe('a\nb\n');
  });
  it('probe thresholds: ready after successThreshold, unready after failureThreshold', () => {
    const p = new ProbeState({ successThreshold: 2, failureThreshold: 2 });
    expect(p.record({ ok: true })).toEqual({ changed: false, failedNow: false });
    expect(p.record({ ok: true })).toEqual({ changed: true, failedNow: false });
    expect(p.record({ ok: false, message: 'x' }).changed).toBe(false);
    expect(p.record({ ok: false, message: 'x' })).toEqual({ changed: true, failedNow: true });
    expect(resolvePort('http', [{ name: 'http', containerPort: 3000 }])).toBe(3000);
    expect(resolvePort('8080', undefined)).toBe(8080);
    expect(resolvePort('nope', [])).toBeNull();
  });
});
