// EXTERNAL-IP allocation: pure, a snapshot of Services in, every
// LoadBalancer Service's address (or why it has none) out.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  parsePool,
  planAssignments,
  formatPool,
  inPool,
  poolSize,
  CloudLbError,
  type LbServiceView,
} from '../../../src/cloudlb/index.js';

const pool = parsePool('172.28.0.240-172.28.0.254');
const svc = (key: string, created: string, extra: Partial<LbServiceView> = {}): LbServiceView => ({
  key,
  created,
  wantsLb: true,
  currentIps: [],
  ...extra,
});
const ips = (m: Map<string, { ip: string | null }>) => Object.fromEntries([...m].map(([k, a]) => [k, a.ip]));

describe('parsePool', () => {
  it('reads first-last, one address, and a CIDR without its network and broadcast addresses', () => {
    expect(poolSize(pool)).toBe(15);
    expect(formatPool(pool)).toBe('172.28.0.240-172.28.0.254');
    expect(formatPool(parsePool('172.28.0.240'))).toBe('172.28.0.240');
    expect(formatPool(parsePool('172.28.0.240/28'))).toBe('172.28.0.241-172.28.0.254');
    expect(formatPool(parsePool('172.28.0.240/32'))).toBe('172.28.0.240');
  });

  it.each(['', '172.28.0.254-172.28.0.240', '172.28.0.300', '172.28.0.0/40', 'pool'])('%j → ERR_BAD_POOL', (spec) => {
    let err: unknown;
    try {
      parsePool(spec);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CloudLbError);
    expect((err as CloudLbError).code).toBe('ERR_BAD_POOL');
    expect((err as Error).message).toContain(`"${spec}"`);
  });

  it('inPool takes only strict dotted quads inside the range', () => {
    expect(inPool(pool, '172.28.0.240')).toBe(true);
    expect(inPool(pool, '172.28.0.254')).toBe(true);
    expect(inPool(pool, '172.28.0.239')).toBe(false);
    expect(inPool(pool, '172.28.0.255')).toBe(false);
    expect(inPool(pool, '172.28.0.0240')).toBe(false);
  });
});

describe('planAssignments', () => {
  it('gives the lowest free address, oldest Service first', () => {
    const out = planAssignments(
      [svc('default/b', '2026-01-02T00:00:00Z'), svc('default/a', '2026-01-01T00:00:00Z')],
      pool,
    );
    expect(ips(out)).toEqual({ 'default/a': '172.28.0.240', 'default/b': '172.28.0.241' });
  });

  it('leaves out Services that do not want a load balancer', () => {
    const out = planAssignments(
      [svc('default/c', '1', { wantsLb: false, currentIps: ['172.28.0.240'] }), svc('default/d', '2')],
      pool,
    );
    expect(ips(out)).toEqual({ 'default/d': '172.28.0.240' });
  });

  it('keeps what the status holds (a restart changes nothing), even when a lower address is free', () => {
    const out = planAssignments(
      [svc('default/b', '2', { currentIps: ['172.28.0.241'] }), svc('default/new', '3')],
      pool,
    );
    expect(ips(out)).toEqual({ 'default/b': '172.28.0.241', 'default/new': '172.28.0.240' });
  });

  it('honours spec.loadBalancerIP when it is in the pool and free', () => {
    const out = planAssignments(
      [svc('default/a', '1'), svc('default/want', '2', { requestedIp: '172.28.0.250' })],
      pool,
    );
    expect(ips(out)).toEqual({ 'default/a': '172.28.0.240', 'default/want': '172.28.0.250' });
  });

  it('a requested address outside the pool or held by another leaves the Service pending, with the reason', () => {
    const out = planAssignments(
      [
        svc('default/holder', '1', { currentIps: ['172.28.0.245'] }),
        svc('default/taken', '2', { requestedIp: '172.28.0.245' }),
        svc('default/outside', '3', { requestedIp: '10.0.0.1' }),
      ],
      pool,
    );
    expect(out.get('default/holder')).toEqual({ ip: '172.28.0.245' });
    expect(out.get('default/taken')).toEqual({
      ip: null,
      problem: {
        reason: 'LoadBalancerIPInUse',
        message: 'spec.loadBalancerIP 172.28.0.245 is in use by Service default/holder',
      },
    });
    expect(out.get('default/outside')).toEqual({
      ip: null,
      problem: {
        reason: 'LoadBalancerIPNotInPool',
        message: 'spec.loadBalancerIP 10.0.0.1 is not in the pool 172.28.0.240-172.28.0.254',
      },
    });
  });

  it('moves a Service whose loadBalancerIP changed to the new address, freeing the old one', () => {
    const out = planAssignments(
      [svc('default/a', '1', { currentIps: ['172.28.0.240'], requestedIp: '172.28.0.250' }), svc('default/b', '2')],
      pool,
    );
    expect(ips(out)).toEqual({ 'default/a': '172.28.0.250', 'default/b': '172.28.0.240' });
  });

  it('does not keep a status address outside the pool (another pool, or written by hand)', () => {
    expect(ips(planAssignments([svc('default/a', '1', { currentIps: ['192.0.2.7'] })], pool))).toEqual({
      'default/a': '172.28.0.240',
    });
  });

  it('says so when the pool is exhausted', () => {
    const small = parsePool('172.28.0.240-172.28.0.241');
    const out = planAssignments([svc('n/a', '1'), svc('n/b', '2'), svc('n/c', '3')], small);
    expect(ips(out)).toEqual({ 'n/a': '172.28.0.240', 'n/b': '172.28.0.241', 'n/c': null });
    expect(out.get('n/c')!.problem).toEqual({
      reason: 'PoolExhausted',
      message: 'all 2 addresses of 172.28.0.240-172.28.0.241 are in use',
    });
  });

  it('two Services claiming one address in their status: the older keeps it, the younger gets another', () => {
    const out = planAssignments(
      [svc('n/young', '2', { currentIps: ['172.28.0.240'] }), svc('n/old', '1', { currentIps: ['172.28.0.240'] })],
      pool,
    );
    expect(ips(out)).toEqual({ 'n/old': '172.28.0.240', 'n/young': '172.28.0.241' });
  });

  it('property: addresses are unique, in the pool, and a second pass over its own result changes nothing', () => {
    const arb = fc.array(
      fc.record({
        name: fc.string({ minLength: 1, maxLength: 4 }),
        created: fc.integer({ min: 0, max: 50 }).map(String),
        wantsLb: fc.boolean(),
        requested: fc.option(
          fc.integer({ min: 230, max: 255 }).map((n) => `172.28.0.${n}`),
          { nil: undefined },
        ),
        current: fc.option(
          fc.integer({ min: 230, max: 255 }).map((n) => `172.28.0.${n}`),
          { nil: undefined },
        ),
      }),
      { maxLength: 25 },
    );
    fc.assert(
      fc.property(arb, (rows) => {
        const seen = new Set<string>();
        const views: LbServiceView[] = rows
          .filter((r) => !seen.has(r.name) && seen.add(r.name))
          .map((r) => ({
            key: `ns/${r.name}`,
            created: r.created.padStart(3, '0'),
            wantsLb: r.wantsLb,
            requestedIp: r.requested,
            currentIps: r.current ? [r.current] : [],
          }));
        const out = planAssignments(views, pool);
        const given = [...out.values()].map((a) => a.ip).filter((ip): ip is string => ip !== null);
        expect(new Set(given).size).toBe(given.length);
        for (const ip of given) expect(inPool(pool, ip)).toBe(true);
        for (const v of views) if (!v.wantsLb) expect(out.has(v.key)).toBe(false);
        const again = planAssignments(
          views.map((v) => ({ ...v, currentIps: out.get(v.key)?.ip ? [out.get(v.key)!.ip!] : [] })),
          pool,
        );
        expect(ips(again)).toEqual(ips(out));
      }),
    );
  });
});
