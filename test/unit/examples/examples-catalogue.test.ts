import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { EXAMPLES, findExample, listLines, namespacesOf, ExampleNotFoundError } from '../../../src/examples/index.js';
import { launchFor } from '../../../src/kubelet/images.js';

// The catalogue of `podwire example run`: every article manifest in
// examples/ has an entry, and its companion gives what it names.

const dir = fileURLToPath(new URL('../../../examples/', import.meta.url));
const docs = (rel: string): Record<string, any>[] =>
  parseAllDocuments(readFileSync(dir + rel, 'utf8'))
    .map((d) => d.toJS())
    .filter(Boolean);

describe('the example catalogue', () => {
  it('has one entry per examples/*.yaml, in file order, and nothing else', () => {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => f.replace(/\.yaml$/, ''));
    expect(EXAMPLES.map((e) => e.name)).toEqual(files);
  });

  for (const e of EXAMPLES) {
    describe(e.name, () => {
      const manifest = docs(`${e.name}.yaml`);
      const companion = docs(`companions/${e.companion}`);

      it('lists the manifest’s kinds', () => {
        expect(manifest.map((d) => d.kind)).toEqual(e.kinds);
      });

      it('goes into its own namespace exactly when the manifest names none', () => {
        const named = manifest.filter((d) => d.metadata.namespace).length;
        if (e.namespace) {
          expect(named).toBe(0);
          expect(e.namespace).toMatch(/^ex-[a-z0-9-]+$/);
          expect(e.home).toBe(e.namespace);
        } else {
          expect(named).toBe(manifest.length);
          expect(manifest.map((d) => d.metadata.namespace)).toContain(e.home);
        }
      });

      it('has a companion that makes every namespace it uses and names its namespace on every object', () => {
        const made = companion.filter((d) => d.kind === 'Namespace').map((d) => d.metadata.name);
        const used = namespacesOf(e, manifest.map((d) => d.metadata.namespace).filter(Boolean));
        expect(made.sort()).toEqual([...used].sort());
        for (const d of companion.filter((x) => x.kind !== 'Namespace')) expect(made).toContain(d.metadata.namespace);
      });

      it('has a workload for every selector in the manifest, on the Service’s targetPort', () => {
        const pods = companion.flatMap((d) =>
          d.kind === 'Pod'
            ? [{ labels: d.metadata.labels ?? {}, spec: d.spec }]
            : d.spec?.template
              ? [{ labels: d.spec.template.metadata.labels, spec: d.spec.template.spec }]
              : [],
        );
        const matches = (sel: Record<string, string>) =>
          pods.filter((p) => Object.entries(sel).every(([k, v]) => p.labels[k] === v));
        for (const s of manifest.filter((d) => d.kind === 'Service' && d.spec.selector)) {
          const behind = matches(s.spec.selector);
          expect(behind.length, `${s.metadata.name} selects no companion pod`).toBeGreaterThan(0);
          for (const port of s.spec.ports)
            for (const p of behind)
              expect(p.spec.containers.flatMap((c: any) => (c.ports ?? []).map((x: any) => x.containerPort))).toContain(
                port.targetPort ?? port.port,
              );
        }
        for (const np of manifest.filter((d) => d.kind === 'NetworkPolicy')) {
          const sel = np.spec.podSelector.matchLabels;
          if (sel) expect(matches(sel).length, `${np.metadata.name} selects no companion pod`).toBeGreaterThan(0);
        }
      });

      it('runs only workloads podwire has a built-in for (each listens on its declared ports)', () => {
        const tools = { workloadBin: '/w', busyboxDir: '/b' };
        for (const d of companion) {
          const spec = d.kind === 'Pod' ? d.spec : d.spec?.template?.spec;
          for (const c of spec?.containers ?? [])
            expect(launchFor(c, tools).builtin, `${d.metadata.name}/${c.name}`).not.toBe('generic');
        }
      });
    });
  }

  it('finds an example by name, unique prefix or file path, and says which when ambiguous', () => {
    expect(findExample('000-service-clusterip').name).toBe('000-service-clusterip');
    expect(findExample('000-service-cl').name).toBe('000-service-clusterip');
    expect(findExample('examples/003-service-headless.yaml').name).toBe('003-service-headless');
    expect(() => findExample('000-service')).toThrow(
      '"000-service" names more than one example: 000-service-clusterip, 000-service-headless, 000-service-loadbalancer, 000-service-nodeport',
    );
    expect(() => findExample('externalname')).toThrow(
      'no example "externalname"; did you mean: 003-service-externalname',
    );
    try {
      findExample('nope');
    } catch (err) {
      expect(err).toBeInstanceOf(ExampleNotFoundError);
      expect((err as ExampleNotFoundError).candidates).toHaveLength(EXAMPLES.length);
      expect((err as Error).message).toMatch(
        /^no example "nope" \(podwire example list: 000-gateway-httproute-canary, /,
      );
    }
  });

  it('lists one line per example', () => {
    const lines = listLines(EXAMPLES);
    expect(lines).toHaveLength(EXAMPLES.length + 1);
    expect(lines[0]).toBe(
      'NAME                                                KINDS               NAMESPACE                     WHAT IT SHOWS',
    );
    expect(lines[5]).toBe(
      '000-service-clusterip                               Service             ex-000-clusterip              ClusterIP Service backend: 80 → 8080 of app: backend',
    );
    expect(lines[3]).toBe(
      '000-networkpolicy-allow-web-to-api-and-dns-egress   NetworkPolicy       production (the manifest’s)   production: app: web → app: api on 8080, and DNS egress for every pod',
    );
  });
});
