import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { ensureMissingToolShims, missingToolMessage, TOOL_PACKAGES } from '../../../src/kubelet/image-tools.js';

describe('debug image tools', () => {
  it('names the Debian package of every tool the articles use', () => {
    expect(Object.keys(TOOL_PACKAGES).sort()).toEqual(
      [
        'curl',
        'dig',
        'host',
        'ip',
        'iperf3',
        'jq',
        'nc',
        'netstat',
        'nmap',
        'nslookup',
        'ping',
        'ss',
        'tcpdump',
        'traceroute',
        'wget',
      ].sort(),
    );
    expect(missingToolMessage('nmap')).toBe(
      "podwire: nmap: not installed on this node — containers run the node's own tools; install the Debian package nmap (scripts/setup installs every debug image's tools)",
    );
  });

  it('writes a shim for each tool the node lacks, and removes it once the tool is there', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podwire-shims-'));
    try {
      const have = new Set(['/usr/bin/dig', '/usr/bin/curl']);
      const missing = ensureMissingToolShims(dir, (f) => have.has(f), ['/usr/bin']);
      expect(missing).not.toContain('dig');
      expect(missing).toContain('nc');
      expect(fs.readdirSync(dir).sort()).toEqual(missing.sort());
      const run = spawnSync(path.join(dir, 'nc'), ['-h'], { encoding: 'utf8' });
      expect([run.status, run.stderr.trim()]).toEqual([127, missingToolMessage('nc')]);
      have.add('/usr/bin/nc');
      ensureMissingToolShims(dir, (f) => have.has(f), ['/usr/bin']);
      expect(fs.existsSync(path.join(dir, 'nc'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  // The machine the tests run on has what scripts/setup and .ci/run install: every tool is there.
  it('this machine has every debug tool (scripts/setup, .ci/run)', () => {
    const lacking = Object.keys(TOOL_PACKAGES).filter((t) => {
      try {
        execFileSync('sh', ['-c', `command -v ${t}`], {
          env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
        });
        return false;
      } catch {
        return true;
      }
    });
    expect(lacking.map((t) => `${t} (${TOOL_PACKAGES[t]})`)).toEqual([]);
  });
});
