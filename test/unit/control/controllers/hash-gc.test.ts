import { describe, it, expect } from 'vitest';
import {
  fnv32a,
  safeEncodeString,
  templateHash,
  orphans,
  WorkQueue,
  SAFE_ALPHABET,
} from '../../../../src/control/controllers/index.js';
import { eventObject } from '../../../../src/control/controllers/events.js';
import { malformedReason } from '../../../../src/control/controllers/objects.js';
import type { KubeObject } from '../../../../src/control/client/index.js';
import { pod, T0 } from './fixtures.js';

describe('names and hashes', () => {
  it('FNV-32a matches the reference vectors', () => {
    expect(fnv32a('')).toBe(0x811c9dc5);
    expect(fnv32a('a')).toBe(0xe40c292c);
    expect(fnv32a('foobar')).toBe(0xbf9cf968);
  });

  it('SafeEncodeString maps each byte into the vowel-free alphabet, as Kubernetes renders hashes', () => {
    expect(SAFE_ALPHABET).toBe('bcdfghjklmnpqrstvwxz2456789');
    expect(safeEncodeString('0123456789')).toBe('456789bcdf');
    // 1815823120 is the hash that Kubernetes shows as "5d59d67564"
    expect(safeEncodeString(String(1815823120))).toBe('5d59d67564');
    expect(templateHash({ b: 1, a: [1, 2] })).toBe(templateHash({ a: [1, 2], b: 1 }));
    expect(templateHash({ a: 1 })).toBe(safeEncodeString(String(fnv32a('{"a":1}'))));
    expect(templateHash({ a: 1 }, 1)).toBe(safeEncodeString(String(fnv32a('{"a":1}1'))));
  });

  it('names events <object>.<16 hex>, in the object’s namespace (nodes: default)', () => {
    const ev = eventObject(
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node1', uid: 'u1' } },
      'Normal',
      'NodeReady',
      'Node node1 status is now: NodeReady',
      'node-controller',
      T0,
    );
    expect(ev.metadata.name).toMatch(/^node1\.[0-9a-f]{16}$/);
    expect(ev).toMatchObject({
      metadata: { namespace: 'default' },
      involvedObject: { apiVersion: 'v1', kind: 'Node', name: 'node1', uid: 'u1' },
      source: { component: 'node-controller' },
      reportingComponent: 'node-controller',
      firstTimestamp: '2024-05-01T10:00:00Z',
      lastTimestamp: '2024-05-01T10:00:00Z',
      count: 1,
      type: 'Normal',
    });
  });
});

describe('garbage collection', () => {
  const dep: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'd1' },
  };
  const sts: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: 'default', uid: 's1' },
  };

  it('finds dependents whose owner is gone or was replaced (other uid)', () => {
    const a = pod('web-1', { owner: dep });
    const b = pod('db-0', { owner: sts });
    const c = pod('bare');
    const foreign = pod('x', {
      owner: { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'rc', uid: 'r1' } },
    });
    const world = new Map<string, KubeObject>([
      ['Deployment/web', dep],
      ['StatefulSet/db', sts],
    ]);
    const lookup = (kind: string, _ns: string | undefined, name: string) => world.get(`${kind}/${name}`);
    expect(orphans([a, b, c, foreign], lookup)).toEqual([]);
    world.delete('Deployment/web');
    expect(orphans([a, b, c, foreign], lookup)).toEqual([a]);
    world.set('StatefulSet/db', { ...sts, metadata: { ...sts.metadata, uid: 's2' } });
    expect(orphans([a, b, c, foreign], lookup)).toEqual([a, b]);
  });
});

describe('work queue', () => {
  it('turns a burst of adds for one key into one sync, and retries failures', async () => {
    const synced: string[] = [];
    let fail = 1;
    const q = new WorkQueue(
      'test',
      async (k) => {
        synced.push(k);
        if (k === 'b' && fail-- > 0) throw new Error('boom');
      },
      () => {},
      5,
    );
    for (let i = 0; i < 500; i++) q.add('a');
    q.add('b');
    await q.idle(); // also waits out the retry of b
    expect(synced).toEqual(['a', 'b', 'b']);
    q.stop();
  });
});

describe('malformed objects', () => {
  it('names what is wrong with an object a controller cannot reason about', () => {
    expect(malformedReason(pod('ok', { ip: '10.244.1.2' }))).toBeNull();
    const bad = (patch: (p: KubeObject) => void) => {
      const p = pod('x');
      patch(p);
      return malformedReason(p);
    };
    expect(bad((p) => (p.status.podIP = 5))).toBe('status.podIP is not a string');
    expect(bad((p) => (p.status.conditions = { Ready: true }))).toBe('status.conditions is not a list of conditions');
    expect(bad((p) => (p.status.conditions = [null]))).toBe('status.conditions is not a list of conditions');
    expect(bad((p) => (p.status = 'Running'))).toBe('status is not an object');
    expect(bad((p) => (p.spec.containers = {}))).toBe('spec.containers is not a list of containers');
  });
});
