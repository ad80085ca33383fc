import fs from 'node:fs';
import { parseIpv4, parseMac, parseCidr } from '../packet/index.js';
import type { Cidr } from '../packet/index.js';
import { vtepMacFor } from './macs.js';

/**
 * Where an agent learns its peer nodes (node IP <-> pod CIDR). Today: a
 * file (the lab writes it). The control plane replaces it with a watch on
 * Node objects; the pipeline only ever sees `PeerSource` snapshots.
 */
export interface PeerSpec {
  name: string;
  nodeIp: string;
  podCidr: string;
  /** defaults to the deterministic VTEP MAC of nodeIp (see macs.ts) */
  vtepMac?: string;
}

export interface PeerSource {
  /** Calls onChange with the full set now and after every change. */
  start(onChange: (peers: PeerSpec[]) => void): void;
  stop(): void;
}

export class PeerConfigError extends Error {
  readonly code = 'ERR_BAD_PEERS';
}

export function parsePeerSpecs(json: unknown, where: string): PeerSpec[] {
  const list = (json as { peers?: unknown })?.peers;
  if (!Array.isArray(list)) throw new PeerConfigError(`${where}: expected {"peers": [...]}`);
  return list.map((p, i) => {
    const at = `${where}: peers[${i}]`;
    if (typeof p !== 'object' || p === null) throw new PeerConfigError(`${at}: expected an object`);
    const known = new Set(['name', 'nodeIp', 'podCidr', 'vtepMac']);
    for (const k of Object.keys(p)) if (!known.has(k)) throw new PeerConfigError(`${at}: unknown field "${k}"`);
    const { name, nodeIp, podCidr, vtepMac } = p as Record<string, unknown>;
    if (typeof name !== 'string' || !name) throw new PeerConfigError(`${at}.name: required string`);
    if (typeof nodeIp !== 'string') throw new PeerConfigError(`${at}.nodeIp: required IPv4 address`);
    if (typeof podCidr !== 'string') throw new PeerConfigError(`${at}.podCidr: required CIDR`);
    const check = (field: string, parse: () => unknown) => {
      try {
        parse();
      } catch (err) {
        throw new PeerConfigError(`${at}.${field}: ${(err as Error).message}`);
      }
    };
    check('nodeIp', () => parseIpv4(nodeIp));
    check('podCidr', () => parseCidr(podCidr));
    if (vtepMac !== undefined) check('vtepMac', () => parseMac(String(vtepMac)));
    return { name, nodeIp, podCidr, ...(vtepMac !== undefined ? { vtepMac: String(vtepMac) } : {}) };
  });
}

/** A peer node as the overlay knows it: where its pods live and how to reach its VTEP. */
export interface Peer {
  name: string;
  nodeIp: number;
  podCidr: Cidr;
  /** the peer's VTEP MAC: inner frames to it carry this destination */
  vtepMac: Buffer;
}

export function toPeer(spec: PeerSpec): Peer {
  const nodeIp = parseIpv4(spec.nodeIp);
  return {
    name: spec.name,
    nodeIp,
    podCidr: parseCidr(spec.podCidr),
    vtepMac: spec.vtepMac ? parseMac(spec.vtepMac) : vtepMacFor(nodeIp),
  };
}

/**
 * Peers from a JSON file, re-read whenever its content changes. A bad file is
 * reported and the last good set kept. It polls the (small) file's content
 * rather than trusting fs.watchFile's mtime snapshots, whose first baseline is
 * taken asynchronously: a write landing before it would never be reported.
 */
export class FilePeerSource implements PeerSource {
  private timer: NodeJS.Timeout | null = null;
  private lastText: string | null = null;
  constructor(
    private readonly file: string,
    private readonly onError: (err: Error) => void = () => {},
    private readonly intervalMs = 250,
  ) {}

  start(onChange: (peers: PeerSpec[]) => void): void {
    const load = () => {
      let text: string;
      try {
        text = fs.readFileSync(this.file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return this.onError(err as Error);
        text = '\u0000absent'; // no file: no peers
      }
      // An empty file is a writer mid-rewrite (truncate, then write): wait for the content.
      if (text === '' || text === this.lastText) return;
      this.lastText = text;
      if (text === '\u0000absent') return onChange([]);
      try {
        onChange(parsePeerSpecs(JSON.parse(text), this.file));
      } catch (err) {
        this.onError(err as Error);
      }
    };
    load();
    this.timer = setInterval(load, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
