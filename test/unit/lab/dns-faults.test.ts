// The cluster DNS faults as data: registered with their default targets,
// and the two pure edits they make (the Corefile typo, the pod's resolv.conf).

import { describe, expect, it } from 'vitest';
import { SCENARIOS } from '../../../src/lab/faults.js';
import { misspellCorefile, blockedResolvConf, UNANSWERED_NAMESERVER } from '../../../src/lab/dns-faults.js';
import { DEFAULT_COREFILE } from '../../../src/dns/addon.js';
import { parseCorefile } from '../../../src/dns/corefile.js';
import { CorefileError } from '../../../src/dns/types.js';
import { parseResolvConf } from '../../../src/kubelet/dns-config.js';

describe('cluster DNS scenarios', () => {
  it('are registered after the Service ones, the add-on’s objects as default targets (the pod one needs a pod)', () => {
    const dns = SCENARIOS.filter((s) =>
      ['coredns-down', 'corefile-error', 'dns-port-blocked', 'dns-no-endpoints'].includes(s.name),
    );
    expect(dns.map((s) => [s.name, s.target, s.defaultTarget])).toEqual([
      ['coredns-down', 'deployment', 'kube-system/coredns'],
      ['corefile-error', 'configmap', 'kube-system/coredns'],
      ['dns-port-blocked', 'pod', undefined],
      ['dns-no-endpoints', 'service', 'kube-system/kube-dns'],
    ]);
    expect(SCENARIOS.map((s) => s.name).indexOf('coredns-down')).toBeGreaterThan(
      SCENARIOS.map((s) => s.name).indexOf('etp-local'),
    );
  });

  it('corefile-error misspells cache on its line, and the parser refuses it there', () => {
    const bad = misspellCorefile(DEFAULT_COREFILE)!;
    expect(bad.line).toBe(DEFAULT_COREFILE.split('\n').findIndex((l) => l.trim() === 'cache 30') + 1);
    expect(bad.text.split('\n')[bad.line - 1].trim()).toBe('cahce 30');
    expect(() => parseCorefile(DEFAULT_COREFILE)).not.toThrow();
    try {
      parseCorefile(bad.text);
      expect.unreachable('the misspelt Corefile parsed');
    } catch (e) {
      expect(e).toBeInstanceOf(CorefileError);
      expect((e as CorefileError).message).toBe(`Corefile:${bad.line}: unknown plugin 'cahce'`);
    }
    expect(misspellCorefile('.:53 {\n    forward . 1.1.1.1\n}\n')).toBeNull();
  });

  it('dns-port-blocked leaves one nameserver, 10.96.0.11, and keeps the search path and options', () => {
    const before =
      'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\nnameserver 10.96.0.20\noptions ndots:5\n';
    const after = blockedResolvConf(before);
    expect(parseResolvConf(after)).toEqual({
      servers: [UNANSWERED_NAMESERVER],
      searches: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      options: ['ndots:5'],
    });
    expect(after.endsWith('\n')).toBe(true);
    expect(parseResolvConf(blockedResolvConf('nameserver 172.28.0.200\n')).servers).toEqual([UNANSWERED_NAMESERVER]);
  });
});
