import { describe, it, expect } from 'vitest';
import { validateEphemeralUpdate } from '../../../src/control/api/subresources/ephemeral-containers.js';
import type { KubeObject } from '../../../src/control/api/object.js';

// pods/ephemeralcontainers: only additions to spec.ephemeralContainers (kubectl debug's patch).

const pod = (extra: Record<string, unknown> = {}, eph?: unknown[]): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default' },
    spec: { containers: [{ name: 'app', image: 'nginx' }], ...extra, ...(eph ? { ephemeralContainers: eph } : {}) },
  }) as KubeObject;

const dbg = { name: 'debugger-x1', image: 'nicolaka/netshoot', targetContainerName: 'app', stdin: true, tty: true };

describe('ephemeral containers update', () => {
  it('accepts adding one with a target', () => {
    expect(validateEphemeralUpdate(pod(), pod({}, [dbg]))).toEqual([]);
  });
  it('refuses other spec changes, changing or removing one, duplicates, ports, unknown targets', () => {
    const fields = (cur: KubeObject, next: KubeObject) => validateEphemeralUpdate(cur, next).map((c) => c.field);
    expect(fields(pod(), pod({ hostname: 'x' }, [dbg]))).toEqual(['spec']);
    expect(fields(pod({}, [dbg]), pod({}, []))).toEqual(['spec.ephemeralContainers']);
    expect(fields(pod({}, [dbg]), pod({}, [{ ...dbg, image: 'busybox' }]))).toEqual(['spec.ephemeralContainers']);
    expect(fields(pod(), pod({}, [{ ...dbg, name: 'app' }]))).toEqual(['spec.ephemeralContainers[0].name']);
    expect(fields(pod(), pod({}, [{ ...dbg, ports: [{ containerPort: 80 }] }]))).toEqual([
      'spec.ephemeralContainers[0].ports',
    ]);
    expect(fields(pod(), pod({}, [{ ...dbg, targetContainerName: 'db' }]))).toEqual([
      'spec.ephemeralContainers[0].targetContainerName',
    ]);
    expect(fields(pod(), pod({}, [{ name: 'd' }]))).toEqual(['spec.ephemeralContainers[0].image']);
  });
});
