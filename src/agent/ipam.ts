import fs from 'node:fs';
import path from 'node:path';
import { ipv4ToString, parseIpv4 } from '../packet/index.js';
import { cidrHost, cidrSize, formatCidr, type Cidr } from '../dataplane/index.js';

export class IpamError extends Error {
  constructor(
    readonly code: 'ERR_IPAM_EXHAUSTED' | 'ERR_IPAM_STATE',
    message: string,
  ) {
    super(message);
  }
}

/**
 * host-local IPAM, as the CNI plugin of that name: the node's /24, gateway
 * .1 reserved, and the last host address (.254: the node's Service SNAT
 * address, see serviceSnatIp), lowest free address first, persisted (atomically) so an agent
 * restart never hands out an address a live pod still has.
 */
export class HostLocalIpam {
  private readonly owners = new Map<number, string>();

  constructor(
    private readonly cidr: Cidr,
    private readonly file: string,
  ) {
    this.load();
  }

  private load(): void {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return;
    }
    const bad = (why: string) =>
      new IpamError('ERR_IPAM_STATE', `${this.file}: ${why}; refusing to guess which IPs are live`);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw bad(`not valid JSON (${(err as Error).message})`);
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data))
      throw bad('expected an object {cidr, allocated}');
    const { cidr, allocated } = data as { cidr?: unknown; allocated?: unknown };
    if (cidr !== formatCidr(this.cidr)) throw bad(`it is for ${String(cidr)}, this node has ${formatCidr(this.cidr)}`);
    if (typeof allocated !== 'object' || allocated === null || Array.isArray(allocated))
      throw bad('"allocated" must be an object of address -> owner');
    for (const [ip, owner] of Object.entries(allocated)) {
      let addr: number;
      try {
        addr = parseIpv4(ip);
      } catch {
        throw bad(`"${ip}" is not an IPv4 address`);
      }
      if (typeof owner !== 'string') throw bad(`the owner of ${ip} is not a name`);
      this.owners.set(addr, owner);
    }
  }

  private save(): void {
    const allocated: Record<string, string> = {};
    for (const [ip, owner] of [...this.owners].sort((a, b) => a[0] - b[0])) allocated[ipv4ToString(ip)] = owner;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify({ cidr: formatCidr(this.cidr), allocated }, null, 2));
    fs.renameSync(tmp, this.file);
  }

  /** The owner's address: the one it already has, or the lowest free one. */
  allocate(owner: string): number {
    for (const [ip, o] of this.owners) if (o === owner) return ip;
    const size = cidrSize(this.cidr);
    for (let n = 2; n < size - 2; n++) {
      const ip = cidrHost(this.cidr, n);
      if (!this.owners.has(ip)) {
        this.owners.set(ip, owner);
        this.save();
        return ip;
      }
    }
    throw new IpamError('ERR_IPAM_EXHAUSTED', `no free address left in ${formatCidr(this.cidr)}`);
  }

  release(owner: string): void {
    for (const [ip, o] of this.owners) if (o === owner) this.owners.delete(ip);
    this.save();
  }

  allocations(): { ip: string; owner: string }[] {
    return [...this.owners].map(([ip, owner]) => ({ ip: ipv4ToString(ip), owner }));
  }
}
