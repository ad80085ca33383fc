/**
 * /etc/hosts as the C library's `files` source reads it (nsswitch's
 * `hosts: files dns`: it is asked before DNS): an address, its canonical
 * name and aliases; names compared without regard to case; the first line
 * that names it wins. IPv4 addresses only (the probe is IPv4). Pure.
 */
export interface HostsEntry {
  address: string;
  names: string[];
  line: number;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export function lookupHosts(text: string, name: string): HostsEntry | null {
  const want = name.toLowerCase();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fields = lines[i].replace(/#.*/, '').trim().split(/\s+/).filter(Boolean);
    if (fields.length < 2 || !IPV4.test(fields[0])) continue;
    if (fields.slice(1).some((n) => n.toLowerCase() === want))
      return { address: fields[0], names: fields.slice(1), line: i + 1 };
  }
  return null;
}
