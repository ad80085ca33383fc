import fs from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { ApiClient, ApiClientError, type KubeObject } from '../control/client/index.js';
import type { LabState } from './lab.js';
import { waitFor } from './wait.js';
import { packagePath } from '../host/index.js';

/** examples/demo/three-tier.yaml: seed 003's multi-tier Services with workloads behind them */
export const DEMO_MANIFEST = packagePath('examples', 'demo', 'three-tier.yaml');

export function demoObjects(): KubeObject[] {
  return parseAllDocuments(fs.readFileSync(DEMO_MANIFEST, 'utf8'))
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => !!o);
}

const isReady = (p: KubeObject) =>
  p.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True';

/**
 * Apply the demo app (objects that exist are left alone) and wait until
 * every pod it makes is Ready, reporting progress as it goes.
 */
export async function applyDemo(
  state: LabState,
  progress: (ready: number, total: number, waiting: string[]) => void,
): Promise<KubeObject[]> {
  const client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
  try {
    const objs = demoObjects();
    for (const o of objs) {
      try {
        await client.create({ ...o, metadata: { namespace: 'default', ...o.metadata } });
      } catch (e) {
        if (!(e instanceof ApiClientError && e.status === 409)) throw e;
      }
    }
    const expected = objs.reduce(
      (n, o) =>
        n + (o.kind === 'Pod' ? 1 : o.kind === 'Deployment' || o.kind === 'StatefulSet' ? (o.spec.replicas ?? 1) : 0),
      0,
    );
    let pods: KubeObject[] = [];
    await waitFor(
      'the demo app’s pods to be Ready',
      180_000,
      async () => {
        pods = (await client.list('pods', { namespace: 'default' })).items;
        const ready = pods.filter(isReady);
        progress(
          ready.length,
          expected,
          pods.filter((p) => !isReady(p)).map((p) => p.metadata.name),
        );
        return ready.length >= expected;
      },
      250,
    );
    return pods;
  } finally {
    client.close();
  }
}
