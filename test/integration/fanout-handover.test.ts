import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, requireRoot, testPrefix } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * What an agent restart rests on (src/agent/handover.ts): two packet sockets
 * in one PACKET_FANOUT rollover group on the same interface. While the first
 * is open every frame is its (the second, standing by, gets none — no frame
 * forwarded twice); once it closes the second gets every frame (none lost);
 * a plain tap on the interface (tcpdump, podwire capture) sees them all.
 */
describe('PACKET_FANOUT rollover: the interface handed from one socket to another', () => {
  it('the first member gets every frame, the second all of them once the first leaves, a tap all along', async () => {
    requireRoot();
    const ns = `${testPrefix('fo')}`;
    const script = path.join(os.tmpdir(), `${ns}.mjs`);
    fs.writeFileSync(
      script,
      `
import dgram from 'node:dgram';
const { PacketSocket, RxBatch } = await import('${root}/dist/native/index.js');
const opts = { fanoutGroup: 4242, ignoreOutgoing: true };
const first = PacketSocket.open('pwfob', opts);
const second = PacketSocket.open('pwfob', opts);
const tap = PacketSocket.open('pwfob', {});
const rx = new RxBatch(2048, 64);
// our UDP frames only: to 10.9.0.3 port 9999
const ours = (s, port = 9999) => { let n = 0; while (s.recv(rx) > 0) for (let i = 0; i < rx.count; i++) { const o = rx.slotOffset(i); if (rx.buf.readUInt16BE(o + 12) === 0x0800 && rx.buf.readUInt16BE(o + 36) === port) n++; } return n; };
const sock = dgram.createSocket('udp4');
await new Promise((r) => sock.bind(0, '10.9.0.1', r));
const send = async (n) => { for (let i = 0; i < n; i++) await new Promise((r) => sock.send(Buffer.alloc(32), 9999, '10.9.0.3', r)); await new Promise((r) => setTimeout(r, 200)); };
await send(100);
const phase1 = { first: ours(first), second: ours(second), tap: ours(tap) };
// frames this host sends out of the interface: not for a member asking to ignore them (its filter drops them: a
// fanout group does not honour the socket's PACKET_IGNORE_OUTGOING), still seen by a plain tap
const out = dgram.createSocket('udp4');
await new Promise((r) => out.bind(0, '10.9.1.2', r));
for (let i = 0; i < 20; i++) await new Promise((r) => out.send(Buffer.alloc(16), 9998, '10.9.1.5', r));
await new Promise((r) => setTimeout(r, 200));
const outgoing = { first: ours(first, 9998), second: ours(second, 9998), tap: ours(tap, 9998) };
out.close();
first.close();
await send(100);
const phase2 = { second: ours(second), tap: ours(tap) };
console.log(JSON.stringify({ phase1, phase2, outgoing }));
sock.close(); second.close(); tap.close();
`,
    );
    try {
      await execa('ip', ['netns', 'add', ns]);
      const ip = (...a: string[]) => execa('ip', ['-n', ns, ...a]);
      await ip('link', 'add', 'pwfoa', 'type', 'veth', 'peer', 'name', 'pwfob');
      await ip('addr', 'add', '10.9.0.1/24', 'dev', 'pwfoa');
      await ip('link', 'set', 'pwfoa', 'up');
      await ip('link', 'set', 'pwfob', 'up');
      await ip('link', 'set', 'lo', 'up');
      await ip('neigh', 'add', '10.9.0.3', 'lladdr', '02:00:00:00:00:03', 'dev', 'pwfoa');
      await ip('addr', 'add', '10.9.1.2/24', 'dev', 'pwfob');
      await ip('neigh', 'add', '10.9.1.5', 'lladdr', '02:00:00:00:00:05', 'dev', 'pwfob');
      const r = await execa('ip', ['netns', 'exec', ns, process.execPath, script]);
      const { phase1, phase2, outgoing } = JSON.parse(String(r.stdout).trim().split('\n').pop()!);
      expect(phase1).toEqual({ first: 100, second: 0, tap: 100 });
      expect(phase2).toEqual({ second: 100, tap: 100 });
      expect(outgoing).toEqual({ first: 0, second: 0, tap: 20 });
    } finally {
      await execa('ip', ['netns', 'del', ns], { reject: false });
      fs.rmSync(script, { force: true });
    }
  });
});
