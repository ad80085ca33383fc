import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { Ajv } from 'ajv';

// compose.yaml without a Docker engine: valid against the Compose
// Specification's JSON schema, and saying what the workshop needs (one
// image, entrypoints that exist, privileged nodes at fixed addresses, the
// demo applier, the etcd profile switching the API server's store).

const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (rel: string) => fs.readFileSync(path.join(root, rel), 'utf8');
/** merge: compose files may use YAML merge keys (`<<: *anchor`), as Compose does */
const compose = parse(read('compose.yaml'), { merge: true }) as Record<string, any>;
const services = compose.services as Record<string, Record<string, any>>;
const names = Object.keys(services);
const nodes = names.filter((n) => /^node\d+$/.test(n));
const addressOf = (svc: string): string => services[svc].networks?.underlay?.ipv4_address;
const env = (svc: string): Record<string, string> => services[svc].environment ?? {};

/**
 * The Compose Specification's schema (compose_spec.json, draft-07, from
 * github.com/compose-spec/compose-spec, Apache-2.0), vendored in
 * test/unit/fixtures/compose-spec.schema.json as the npm package
 * dclint@3.1.0 ships it (schemas/compose.schema.json); ajv with the options
 * dclint itself validates with. Vendored rather than depending on dclint:
 * one JSON file instead of a linter and its dependency tree.
 */
function composeSchema(): Record<string, unknown> {
  return JSON.parse(
    fs.readFileSync(
      path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/compose-spec.schema.json'),
      'utf8',
    ),
  );
}
const schema = composeSchema();
const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';
/** the spec names draft-07 by its https URL; ajv registers draft-07 under the canonical http one (dclint maps it the same way) */
const validate = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true }).compile({
  ...schema,
  $schema: DRAFT_07,
});
const errorsOf = (doc: unknown) =>
  validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

/** /opt/podwire in the image: where the Dockerfile puts the repository. */
const imageRoot = /^WORKDIR\s+(\S+)/m.exec(read('Dockerfile'))![1];
/** the repository file an image path names */
const inRepo = (p: string) => {
  expect(p.startsWith(`${imageRoot}/`), `${p} is not under ${imageRoot}`).toBe(true);
  return path.join(root, p.slice(imageRoot.length + 1));
};

describe('compose.yaml and the Compose Specification', () => {
  it('uses the Compose Specification schema', () => {
    expect(schema.title).toBe('Compose Specification');
    expect(schema.$id).toBe('compose_spec.json');
    expect(String(schema.$schema).replace('https:', 'http:').replace(/#?$/, '#')).toBe(DRAFT_07);
  });

  it('is valid against it', () => {
    expect(errorsOf(compose)).toEqual([]);
  });

  it('and the check has teeth: a misspelt key or a wrong type is rejected', () => {
    const typo = structuredClone(compose);
    typo.services.node1.privilegd = true;
    expect(errorsOf(typo).join('\n')).toMatch(/must NOT have additional properties/);
    const badType = structuredClone(compose);
    badType.networks.underlay.ipam.config = '172.28.0.0/24';
    expect(errorsOf(badType).length).toBeGreaterThan(0);
  });
});

describe('compose.yaml: the workshop cluster', () => {
  it('has the API server, three nodes, the external client, www, the cloud load balancer, the demo applier and etcd (profile)', () => {
    expect(names.sort()).toEqual(['apiserver', 'client', 'cloudlb', 'demo', 'etcd', 'node1', 'node2', 'node3', 'www']);
  });

  it('runs one image for every role, built once from the Dockerfile', () => {
    for (const n of names) expect(services[n].image, n).toBe('podwire:local');
    const builders = names.filter((n) => services[n].build !== undefined);
    expect(builders).toEqual(['apiserver']);
    expect(services.apiserver.build).toBe('.');
  });

  it('gives every service an entrypoint in containers/ that exists and is executable, and runs it under an init', () => {
    for (const n of names) {
      const ep = services[n].entrypoint as string[];
      expect(ep, n).toHaveLength(1);
      expect(ep[0], n).toMatch(new RegExp(`^${imageRoot}/containers/[a-z]+\\.sh$`));
      const file = inRepo(ep[0]);
      expect(fs.existsSync(file), file).toBe(true);
      expect(fs.statSync(file).mode & 0o111, `${file} is not executable`).toBe(0o111);
      expect(read(path.relative(root, file)).startsWith('#!/bin/sh\n'), file).toBe(true);
      expect(services[n].init, n).toBe(true);
    }
  });

  it('puts every service on the underlay network 172.28.0.0/24 at a fixed address, clear of Docker’s own range', () => {
    const [ipam] = compose.networks.underlay.ipam.config;
    expect(ipam).toEqual({ subnet: '172.28.0.0/24', gateway: '172.28.0.1', ip_range: '172.28.0.128/26' });
    const want: Record<string, string> = {
      apiserver: '172.28.0.2',
      cloudlb: '172.28.0.3',
      demo: '172.28.0.4',
      etcd: '172.28.0.5',
      node1: '172.28.0.11',
      node2: '172.28.0.12',
      node3: '172.28.0.13',
      client: '172.28.0.100',
      www: '172.28.0.200',
    };
    expect(Object.fromEntries(names.map((n) => [n, addressOf(n)]))).toEqual(want);
    // Docker hands out .128-.191 by itself: no fixed address, and no EXTERNAL-IP of the pool, is in there
    const dynamic = (last: number) => last >= 128 && last <= 191;
    for (const n of names) {
      expect(Object.keys(services[n].networks), n).toEqual(['underlay']);
      expect(dynamic(Number(addressOf(n).split('.')[3])), `${n} inside Docker's dynamic range`).toBe(false);
    }
    expect(env('cloudlb').PODWIRE_LB_POOL).toBe('172.28.0.240-172.28.0.254');
    for (let last = 240; last <= 254; last++) expect(dynamic(last)).toBe(false);
  });

  it('runs the nodes privileged, named for their service, with fresh /run/netns and the agent as entrypoint', () => {
    expect(nodes).toEqual(['node1', 'node2', 'node3']);
    nodes.forEach((n, i) => {
      const s = services[n];
      expect(s.privileged, n).toBe(true);
      expect(s.hostname, n).toBe(n);
      expect(env(n).NODE_NAME, n).toBe(n);
      expect(addressOf(n), n).toBe(`172.28.0.${11 + i}`);
      expect(s.entrypoint, n).toEqual([`${imageRoot}/containers/node.sh`]);
      expect(s.tmpfs, n).toEqual(['/run/netns', '/run/podwire:exec']);
      expect(s.depends_on, n).toEqual({ apiserver: { condition: 'service_healthy' } });
    });
    // nothing else but the cloud load balancer (a packet socket, a sysctl) is privileged: the client is an ordinary machine
    expect(names.filter((n) => services[n].privileged).sort()).toEqual([...nodes, 'cloudlb'].sort());
  });

  it('points every service at the API server over HTTPS, with the admin kubeconfig for the podwire CLI', () => {
    for (const n of names) {
      expect(env(n).PODWIRE_SERVER, n).toBe(`https://${addressOf('apiserver')}:6443`);
      expect(env(n).PODWIRE_KUBECONFIG, n).toBe('/etc/podwire/pki/admin.kubeconfig');
    }
    // anonymous requests may ask only for health: the check trusts the cluster CA
    expect(services.apiserver.healthcheck.test).toEqual([
      'CMD',
      'curl',
      '-fsS',
      '-o',
      '/dev/null',
      '--cacert',
      '/etc/podwire/pki/ca.crt',
      'https://127.0.0.1:6443/livez',
    ]);
  });

  it('the apiserver makes the PKI in the pki volume; nodes, client, demo and the load balancer mount it read-only', () => {
    expect(services.apiserver.volumes).toContain('pki:/etc/podwire/pki');
    for (const n of [...nodes, 'client', 'demo', 'cloudlb'])
      expect(services[n].volumes, n).toEqual(['pki:/etc/podwire/pki:ro']);
    expect(Object.keys(compose.volumes)).toContain('pki');
    expect(env('apiserver').PODWIRE_NODES.split(' ')).toEqual(nodes);
    // each node's agent is system:node:<name>, with its own kubeconfig
    expect(read('containers/node.sh')).toContain('kubeconfig="$PODWIRE_PKI_DIR/node-$node.kubeconfig"');
  });

  it('keeps the embedded store on a volume', () => {
    expect(services.apiserver.volumes).toEqual(['store:/var/lib/podwire/store', 'pki:/etc/podwire/pki']);
    expect(Object.keys(compose.volumes)).toContain('store');
    expect(read('containers/apiserver.sh')).toMatch(/store=\/var\/lib\/podwire\/store$/m);
  });

  it('has the client outside the cluster: no agent, not privileged, on the underlay at 172.28.0.100', () => {
    expect(services.client.entrypoint).toEqual([`${imageRoot}/containers/client.sh`]);
    expect(services.client.privileged).toBeUndefined();
    expect(addressOf('client')).toBe('172.28.0.100');
  });

  it('restarts a node whose agent died and checks its agent by the kube-proxy healthz on the node address', () => {
    for (const n of ['node1', 'node2', 'node3']) {
      expect(services[n].restart).toBe('unless-stopped');
      expect(services[n].healthcheck.test.join(' ')).toMatch(/curl -fsS .*:10256\/healthz/);
    }
  });

  it('has www (http, https, udp echo) and the cloud load balancer (after the API server), each with a health check', () => {
    expect(services.www.entrypoint).toEqual([`${imageRoot}/containers/www.sh`]);
    expect(services.www.privileged).toBeUndefined();
    expect(services.www.healthcheck.test).toEqual(['CMD', 'curl', '-fsS', '-o', '/dev/null', 'http://127.0.0.1/']);
    expect(read('containers/www.sh')).toMatch(/^exec "\$PODWIRE_BIN" www --name .* --tls-dir "\$dir"$/m);
    expect(services.cloudlb.entrypoint).toEqual([`${imageRoot}/containers/cloudlb.sh`]);
    expect(services.cloudlb.depends_on).toEqual({ apiserver: { condition: 'service_healthy' } });
    expect(services.cloudlb.healthcheck.test).toContain('--unix-socket');
    expect(read('containers/cloudlb.sh')).toMatch(
      /^exec "\$PODWIRE_BIN" cloudlb --apiserver "\$PODWIRE_SERVER" --pool "\$pool" --interface eth0 --socket "\$socket"$/m,
    );
  });

  it('has a one-shot demo service that waits for every node and applies examples/demo/three-tier.yaml', () => {
    const demo = services.demo;
    expect(demo.entrypoint).toEqual([`${imageRoot}/containers/demo.sh`]);
    expect(demo.restart).toBe('no');
    expect(Number(env('demo').PODWIRE_DEMO_NODES)).toBe(nodes.length);
    for (const n of nodes) expect(demo.depends_on[n], n).toEqual({ condition: 'service_started' });
    expect(demo.depends_on.apiserver).toEqual({ condition: 'service_healthy' });
    const script = read('containers/demo.sh');
    expect(script).toContain('manifest=${PODWIRE_DEMO_MANIFEST:-$PODWIRE_ROOT/examples/demo/three-tier.yaml}');
    expect(script).toMatch(/^pw apply -f "\$manifest"$/m);
    expect(fs.existsSync(path.join(root, 'examples/demo/three-tier.yaml'))).toBe(true);
  });
});

describe('compose.yaml: the etcd profile switches the store', () => {
  let dir: string;
  /** run apiserver.sh with a stand-in for `podwire` (prints its argv) and for `getent` (does `etcd` resolve?) */
  const apiserverArgv = (etcdOnNetwork: boolean, extraEnv: Record<string, string> = {}): string[] =>
    apiserverRun(etcdOnNetwork, extraEnv).pop()!.split(' ');
  /** every podwire command apiserver.sh runs, one line each */
  const apiserverRun = (etcdOnNetwork: boolean, extraEnv: Record<string, string> = {}): string[] => {
    const out = execFileSync('sh', [path.join(root, 'containers/apiserver.sh')], {
      env: {
        PATH: `${dir}:${process.env.PATH}`,
        PODWIRE_BIN: path.join(dir, 'podwire'),
        STUB_ETCD: etcdOnNetwork ? 'yes' : 'no',
        ...extraEnv,
      },
      encoding: 'utf8',
    });
    return out
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('apiserver: '));
  };
  const storeOf = (argv: string[]) => argv[argv.indexOf('--store') + 1];

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pwt-compose-'));
    fs.writeFileSync(path.join(dir, 'podwire'), '#!/bin/sh\necho "$@"\n', { mode: 0o755 });
    fs.writeFileSync(
      path.join(dir, 'getent'),
      '#!/bin/sh\n[ "$STUB_ETCD" = yes ] && [ "$1 $2" = "hosts etcd" ] && echo "172.28.0.5 etcd"\n',
      { mode: 0o755 },
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('puts etcd (same image, Debian’s etcd-server) only in profile etcd, at the name apiserver.sh looks for', () => {
    expect(services.etcd.profiles).toEqual(['etcd']);
    for (const n of names.filter((x) => x !== 'etcd')) expect(services[n].profiles, n).toBeUndefined();
    expect(services.etcd.hostname).toBe('etcd');
    expect(services.etcd.entrypoint).toEqual([`${imageRoot}/containers/etcd.sh`]);
    expect(services.etcd.healthcheck.test).toContain('http://127.0.0.1:2379/health');
    expect(read('containers/etcd.sh')).toContain('--advertise-client-urls "http://${PODWIRE_ETCD_HOST:-etcd}:2379"');
  });

  it('makes the API server wait for etcd when the profile is on, and not need it when it is off', () => {
    expect(services.apiserver.depends_on).toEqual({ etcd: { condition: 'service_healthy', required: false } });
  });

  it('apiserver.sh: the embedded store without etcd, etcd://etcd:2379 with it, PODWIRE_STORE above both', () => {
    // (the advertised address is eth0's unless given: pinned here, this machine's eth0 is not the container's)
    const off = apiserverArgv(false, { PODWIRE_ADVERTISE_ADDRESS: '172.28.0.2' });
    expect(off).toEqual([
      'apiserver',
      '--store',
      '/var/lib/podwire/store',
      '--host',
      '0.0.0.0',
      '--advertise-address',
      '172.28.0.2',
      '--port',
      '6443',
      '--node-monitor-grace-period',
      '10',
      '--default-not-ready-toleration-seconds',
      '300',
      '--default-unreachable-toleration-seconds',
      '300',
      '--tls-cert-file',
      '/etc/podwire/pki/apiserver.crt',
      '--tls-private-key-file',
      '/etc/podwire/pki/apiserver.key',
      '--client-ca-file',
      '/etc/podwire/pki/ca.crt',
      '--service-account-key-file',
      '/etc/podwire/pki/sa.pub',
      '--service-account-signing-key-file',
      '/etc/podwire/pki/sa.key',
      '--kubelet-client-certificate',
      '/etc/podwire/pki/apiserver-kubelet-client.crt',
      '--kubelet-client-key',
      '/etc/podwire/pki/apiserver-kubelet-client.key',
    ]);
    // first the PKI (kept when there), for the nodes PODWIRE_NODES names
    expect(apiserverRun(false, { PODWIRE_ADVERTISE_ADDRESS: '172.28.0.2', PODWIRE_NODES: 'node1 node2' })[0]).toBe(
      'pki --dir /etc/podwire/pki --apiserver-url https://172.28.0.2:6443 --apiserver-ip 172.28.0.2 --apiserver-name apiserver --node node1 --node node2',
    );
    // PODWIRE_EVICTION_SECONDS (compose.yaml passes it through, 300 unless set) sets both tolerations
    expect(env('apiserver').PODWIRE_EVICTION_SECONDS).toBe('${PODWIRE_EVICTION_SECONDS:-300}');
    const quick = apiserverArgv(false, { PODWIRE_ADVERTISE_ADDRESS: '172.28.0.2', PODWIRE_EVICTION_SECONDS: '30' });
    for (const flag of ['--default-not-ready-toleration-seconds', '--default-unreachable-toleration-seconds'])
      expect(quick[quick.indexOf(flag) + 1], flag).toBe('30');
    expect(storeOf(apiserverArgv(true))).toBe('etcd://etcd:2379');
    expect(storeOf(apiserverArgv(true, { PODWIRE_STORE: '/srv/store' }))).toBe('/srv/store');
  });
});
