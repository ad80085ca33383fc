import { describe, it, expect } from 'vitest';
import { execa } from 'execa';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PacketSocket, NativeError } from '../../src/native/index.js';
import { requireRoot } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('packet socket errors are clear', () => {
  it('says root is needed when opened without CAP_NET_RAW', async () => {
    requireRoot();
    // the same code as user "nobody", with no capabilities
    const script = `import('${root}/dist/native/index.js').then(m => { try { m.PacketSocket.open('lo'); console.log('opened'); } catch (e) { console.log(e.code + ': ' + e.message); } })`;
    const r = await execa(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, '-e', script],
      { reject: false },
    );
    expect(String(r.stdout)).toMatch(/^ERR_NOT_ROOT: opening a packet socket on lo needs root \(CAP_NET_RAW\)/);
  });

  it('names the missing interface', () => {
    requireRoot();
    let err: unknown;
    try {
      PacketSocket.open('pwnosuchif0');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NativeError);
    expect((err as NativeError).code).toBe('ERR_NO_SUCH_INTERFACE');
  });
});
