import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  startDaemon,
  runInteractive,
  runProcessSync,
  toolPath,
  signalGroup,
  processStartTicks,
  inNetns,
  withNetns,
  HostError,
} from '../../../src/host/index.js';

// The one place processes start (src/host/process.ts), with real processes.
describe('host processes', () => {
  it('toolPath finds the node’s own copy by absolute path (busybox applets of the same name come first on a container’s PATH)', () => {
    expect(toolPath('sh')).toMatch(/^\/(usr\/)?s?bin\/sh$/);
    expect(toolPath('no-such-tool-pw')).toBe('no-such-tool-pw');
  });
  it('startDaemon: detached, output appended to its log, signalled as a group', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-host-'));
    try {
      const log = path.join(dir, 'd.log');
      const pid = startDaemon(['sh', '-c', 'echo started; exec sleep 30'], { logFile: log });
      for (let i = 0; i < 100 && !fs.readFileSync(log, 'utf8').includes('started'); i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(fs.readFileSync(log, 'utf8')).toBe('started\n');
      expect(processStartTicks(pid)).not.toBeNull();
      expect(signalGroup(pid, 'SIGKILL')).toBe(true);
      for (let i = 0; i < 100 && processStartTicks(pid) !== null; i++) await new Promise((r) => setTimeout(r, 20));
      // reaped by nobody here (detached and unref'd): gone or a zombie, never running
      const state = fs.existsSync(`/proc/${pid}/stat`)
        ? fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0]
        : 'X';
      expect(['Z', 'X']).toContain(state);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it('runInteractive answers the exit code, 127 for a command that is not there', async () => {
    expect(await runInteractive(['sh', '-c', 'exit 3'])).toBe(3);
    expect(await runInteractive(['no-such-tool-pw'])).toBe(127);
  });
  it('runProcessSync returns stdout and throws HostError on failure', () => {
    expect(runProcessSync(['sh', '-c', 'echo out'])).toBe('out\n');
    expect(() => runProcessSync(['sh', '-c', 'exit 2'])).toThrow(HostError);
  });
  it('argv in a named netns: ip netns exec (with /etc/netns), or nsenter --net only', () => {
    expect(inNetns('pw-node1', ['ip', 'a'])).toEqual(['ip', 'netns', 'exec', 'pw-node1', 'ip', 'a']);
    expect(withNetns('pw-node1', ['ip', 'a'])).toEqual(['nsenter', '--net=/run/netns/pw-node1', '--', 'ip', 'a']);
  });
});
