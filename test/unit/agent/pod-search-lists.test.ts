import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { podSearchLists } from '../../../src/agent/pod-search-lists.js';
import type { PodRecord } from '../../../src/agent/pods.js';

const pod = (name: string, ip: string, uid?: string): PodRecord => ({
  name,
  ip,
  mac: '',
  netns: `pw-pod-${name}`,
  hostVeth: '',
  createdAt: '',
  ...(uid ? { uid, namespace: 'default' } : {}),
});

describe('a local pod’s search list, for observe’s DNS events', () => {
  it('reads the resolv.conf the kubelet wrote for the pod; none for a bare pod or an unknown address; cached', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pwsl-'));
    fs.mkdirSync(path.join(dir, 'u1'));
    fs.writeFileSync(
      path.join(dir, 'u1', 'resolv.conf'),
      'search prod.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:2\n',
    );
    let now = 0;
    let listed = 0;
    const pods = [pod('api-0', '10.244.1.5', 'u1'), pod('bare', '10.244.1.6')];
    const searchOf = podSearchLists(
      () => (listed++, pods),
      (uid) => path.join(dir, uid),
      5000,
      () => now,
    );
    expect(searchOf('10.244.1.5')).toEqual(['prod.svc.cluster.local', 'svc.cluster.local', 'cluster.local']);
    expect(searchOf('10.244.1.6')).toBeUndefined();
    expect(searchOf('10.244.9.9')).toBeUndefined();
    expect(searchOf('10.244.1.5')).toHaveLength(3);
    expect(listed).toBe(3); // the repeat came from the cache
    now += 6000;
    fs.writeFileSync(path.join(dir, 'u1', 'resolv.conf'), 'search other.svc.cluster.local\n');
    expect(searchOf('10.244.1.5')).toEqual(['other.svc.cluster.local']);
    fs.rmSync(dir, { recursive: true });
  });
});
