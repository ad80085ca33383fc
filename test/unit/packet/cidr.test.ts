import { describe, it, expect } from 'vitest';
import {
  anyCidrCovers,
  CidrError,
  cidrContains,
  formatCidr,
  parseAnyCidr,
  parseCidr,
  parseIpv4,
} from '../../../src/packet/index.js';

describe('packet/cidr: the one home of CIDR arithmetic', () => {
  it('refuses host bits unless asked to mask them, with a typed error', () => {
    let err: unknown;
    try {
      parseCidr('10.244.1.5/24');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CidrError);
    expect(err).toMatchObject({ name: 'CidrError', code: 'ERR_BAD_CIDR' });
    expect((err as Error).message).toBe('"10.244.1.5/24": host bits set (did you mean 10.244.1.0/24?)');
    expect(formatCidr(parseCidr('10.244.1.5/24', { maskHostBits: true }))).toBe('10.244.1.0/24');
    expect(() => parseCidr('10.0.0.0/33')).toThrow(CidrError);
    expect(() => parseCidr('10.300.0.0/16')).toThrow(CidrError);
  });

  it('contains, for /0, /32 and between', () => {
    expect(cidrContains(parseCidr('0.0.0.0/0'), parseIpv4('203.0.113.9'))).toBe(true);
    expect(cidrContains(parseCidr('10.96.0.0/12'), parseIpv4('10.111.255.255'))).toBe(true);
    expect(cidrContains(parseCidr('10.96.0.0/12'), parseIpv4('10.112.0.0'))).toBe(false);
    expect(cidrContains(parseCidr('10.0.0.7/32'), parseIpv4('10.0.0.7'))).toBe(true);
  });

  it('any-family CIDR text: IPv6 and IPv4 never cover each other', () => {
    const v6 = parseAnyCidr('fd00::/64')!;
    expect(v6).toMatchObject({ family: 6, prefixLen: 64 });
    expect(anyCidrCovers(v6, parseAnyCidr('fd00::1:0/112')!)).toBe(true);
    expect(anyCidrCovers(v6, parseAnyCidr('10.0.0.0/8')!)).toBe(false);
    expect(anyCidrCovers(parseAnyCidr('10.0.0.0/8')!, parseAnyCidr('10.1.0.0/16')!)).toBe(true);
    expect(parseAnyCidr('10.0.0.0')).toBeNull();
  });
});
