// host-local IPAM: addresses for pods out of the node's CIDR, persisted so an
// agent restart never hands out an address a live pod still holds.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostLocalIpam, IpamError } from '../../../src/agent/ipam.js';
import { parseCidr } from '../../../src/dataplane/index.js';
import { ipv4ToString } from '../../../src/packet/index.js';
import { errorOf } from '../support/errors.js';

const NODE_CIDR = parseCidr('10.244.1.0/24');

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwire-ipam-'));
  file = path.join(dir, 'state', 'ipam.json');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const ip = (n: number) => ipv4ToString(n);

/** The error a thunk throws (fails the test if it returns). */

describe('HostLocalIpam', () => {
  it('hands out .2 first and never .1 (the gateway)', () => {
    const ipam = new HostLocalIpam(NODE_CIDR, file);
    expect(ip(ipam.allocate('pod-a'))).toBe('10.244.1.2');
    expect(ip(ipam.allocate('pod-b'))).toBe('10.244.1.3');
  });

  it('uses every host address of a /24 except .1, .254 (Service SNAT), .0 and .255, then refuses with ERR_IPAM_EXHAUSTED', () => {
    const ipam = new HostLocalIpam(NODE_CIDR, file);
    const got = Array.from({ length: 252 }, (_, i) => ip(ipam.allocate(`pod-${i}`)));
    expect(got[0]).toBe('10.244.1.2');
    expect(got[251]).toBe('10.244.1.253');
    expect(new Set(got).size).toBe(252);
    expect(got).not.toContain('10.244.1.254');
    expect(got).not.toContain('10.244.1.1');
    expect(got).not.toContain('10.244.1.0');
    expect(got).not.toContain('10.244.1.255');
    const err = errorOf(() => ipam.allocate('one-too-many'));
    expect(err).toBeInstanceOf(IpamError);
    expect(err.code).toBe('ERR_IPAM_EXHAUSTED');
    expect(err.message).toContain('10.244.1.0/24');
  });

  it('exhausts a /29 after its four pod addresses', () => {
    const ipam = new HostLocalIpam(parseCidr('10.9.0.8/29'), file);
    expect(['a', 'b', 'c', 'd'].map((o) => ip(ipam.allocate(o)))).toEqual([
      '10.9.0.10',
      '10.9.0.11',
      '10.9.0.12',
      '10.9.0.13',
    ]);
    expect(errorOf(() => ipam.allocate('e')).code).toBe('ERR_IPAM_EXHAUSTED');
  });

  it('gives the same owner the same address, without using a new one', () => {
    const ipam = new HostLocalIpam(NODE_CIDR, file);
    const a = ipam.allocate('pod-a');
    expect(ipam.allocate('pod-a')).toBe(a);
    expect(ip(ipam.allocate('pod-b'))).toBe('10.244.1.3');
  });

  it('release frees the address, and the lowest free one is handed out next', () => {
    const ipam = new HostLocalIpam(NODE_CIDR, file);
    for (const o of ['a', 'b', 'c']) ipam.allocate(o);
    ipam.release('b');
    expect(ipam.allocations()).toEqual([
      { ip: '10.244.1.2', owner: 'a' },
      { ip: '10.244.1.4', owner: 'c' },
    ]);
    expect(ip(ipam.allocate('d'))).toBe('10.244.1.3');
    expect(ip(ipam.allocate('e'))).toBe('10.244.1.5');
  });

  it('releasing an owner that has nothing is harmless', () => {
    const ipam = new HostLocalIpam(NODE_CIDR, file);
    ipam.allocate('a');
    ipam.release('nobody');
    expect(ipam.allocations()).toEqual([{ ip: '10.244.1.2', owner: 'a' }]);
  });

  it('survives a restart: a new instance on the same file knows every live address', () => {
    const first = new HostLocalIpam(NODE_CIDR, file);
    for (const o of ['a', 'b', 'c']) first.allocate(o);
    first.release('a');
    const second = new HostLocalIpam(NODE_CIDR, file);
    expect(second.allocations()).toEqual([
      { ip: '10.244.1.3', owner: 'b' },
      { ip: '10.244.1.4', owner: 'c' },
    ]);
    expect(ip(second.allocate('b'))).toBe('10.244.1.3');
    expect(ip(second.allocate('new'))).toBe('10.244.1.2');
  });

  it('persists as readable JSON, written atomically (no temp file left behind)', () => {
    const ipam = new HostLocalIpam(NODE_CIDR, file);
    ipam.allocate('a');
    ipam.allocate('b');
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({
      cidr: '10.244.1.0/24',
      allocated: { '10.244.1.2': 'a', '10.244.1.3': 'b' },
    });
    expect(fs.readdirSync(path.dirname(file))).toEqual(['ipam.json']);
  });

  it('starts empty when there is no state file yet', () => {
    expect(new HostLocalIpam(NODE_CIDR, file).allocations()).toEqual([]);
  });

  it('refuses a state file written for another CIDR', () => {
    new HostLocalIpam(parseCidr('10.244.2.0/24'), file).allocate('a');
    const err = errorOf(() => new HostLocalIpam(NODE_CIDR, file));
    expect(err).toBeInstanceOf(IpamError);
    expect(err.code).toBe('ERR_IPAM_STATE');
    expect(err.message).toContain('10.244.2.0/24');
    expect(err.message).toContain('10.244.1.0/24');
  });

  describe('a corrupted state file is an error, never a silent fresh start', () => {
    const CORRUPT: [string, string][] = [
      ['empty (a crash between create and write)', ''],
      ['cut off mid-document', '{"cidr": "10.244.1.0/24", "allocated": {"10.244.1.2": "po'],
      ['zero-filled (delayed allocation after a power cut)', '\0'.repeat(64)],
      ['an array, not an object', '[]'],
      ['missing its cidr', '{"allocated": {"10.244.1.2": "a"}}'],
    ];

    it.each(CORRUPT)('%s → ERR_IPAM_STATE', (_what, text) => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      const err = errorOf(() => new HostLocalIpam(NODE_CIDR, file));
      expect(err).toBeInstanceOf(IpamError);
      expect(err.code).toBe('ERR_IPAM_STATE');
      expect(err.message).toContain(file);
    });

    // Regression test (was a bug, now fixed): HostLocalIpam.load (src/agent/ipam.ts, lines 27-44) checks only
    // that the file parses and names this CIDR, never the shape of what it
    // parsed. `null` throws a bare TypeError ("Cannot read properties of
    // null"); an address key that is no address throws PacketError
    // ERR_BAD_IPV4 without naming the file (a list of addresses fails on the
    // key "0"); and `"allocated": null` is read as "nothing allocated"
    // (`?? {}`), so every live pod's address is handed out again — exactly
    // what ERR_IPAM_STATE exists to prevent.
    const SHAPELESS: [string, string][] = [
      ['the JSON literal null', 'null'],
      ['allocated: null', '{"cidr": "10.244.1.0/24", "allocated": null}'],
      ['an address that is not one', '{"cidr": "10.244.1.0/24", "allocated": {"10.244.1.300": "a"}}'],
      ['allocated as a list of addresses', '{"cidr": "10.244.1.0/24", "allocated": ["10.244.1.2"]}'],
    ];
    it.each(SHAPELESS)('%s → ERR_IPAM_STATE', (_what, text) => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      const err = errorOf(() => new HostLocalIpam(NODE_CIDR, file));
      expect(err).toBeInstanceOf(IpamError);
      expect(err.code).toBe('ERR_IPAM_STATE');
    });
  });
});
