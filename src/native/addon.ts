import { createRequire } from 'node:module';
import { NativeError } from './errors.js';
import { packagePath } from '../host/index.js';

/** The raw binding, as built by `npm install` (node-gyp) into build/Release. */
export interface NativeAddon {
  supported: boolean;
  open(ifname: string, opts: Record<string, unknown>): { fd: number; ifindex: number; mac: Buffer };
  recvBatch(
    fd: number,
    buf: Buffer,
    slotSize: number,
    maxFrames: number,
    lengths: Uint32Array,
    pkttypes?: Uint8Array,
    times?: Float64Array,
    ifindexes?: Uint32Array,
  ): number;
  sendBatch(fd: number, a: Buffer, b: Buffer | null, desc: Uint32Array, count: number, out?: Uint32Array): number;
  stats(fd: number): { packets: number; drops: number };
  close(fd: number): void;
  ifIndex(name: string): number;
  stopTaking(fd: number): void;
  Poller: new (fd: number, onReadable: (status: number) => void) => { stop(): void };
}

let cached: NativeAddon | undefined;

export function loadAddon(): NativeAddon {
  if (cached) return cached;
  if (process.platform !== 'linux') {
    throw new NativeError('ERR_NOT_LINUX', `AF_PACKET sockets exist only on Linux (this is ${process.platform})`);
  }
  // src/native/ and dist/native/ are both two levels below the package root.
  const file = packagePath('build', 'Release', 'podwire_native.node');
  try {
    cached = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (cause) {
    throw new NativeError('ERR_ADDON_MISSING', `native addon not built (${file}); run npm install`, { cause });
  }
  return cached;
}
