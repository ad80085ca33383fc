import fs from 'node:fs';
import path from 'node:path';

/**
 * The tools debugging articles run inside nicolaka/netshoot, curlimages/curl
 * and busybox pods. podwire has no images: a container runs on the node's
 * own binaries, so these come from Debian packages scripts/setup, .ci/run
 * and the Dockerfile install (busybox-based images put busybox's applets
 * first, as in the image). A tool missing on the node answers with the
 * package to install, instead of the shell's bare "not found".
 */
export const TOOL_PACKAGES: Record<string, string> = {
  tcpdump: 'tcpdump',
  dig: 'bind9-dnsutils',
  nslookup: 'bind9-dnsutils',
  host: 'bind9-dnsutils',
  curl: 'curl',
  wget: 'wget',
  ping: 'iputils-ping',
  traceroute: 'traceroute',
  iperf3: 'iperf3',
  netstat: 'net-tools',
  ss: 'iproute2',
  ip: 'iproute2',
  nmap: 'nmap',
  nc: 'netcat-openbsd',
  jq: 'jq',
};

/** The directories a container's PATH ends with (container-env.ts's BASE_PATH). */
export const NODE_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The text a missing tool prints (stderr), exit status 127 as a shell's "not found". */
export function missingToolMessage(tool: string): string {
  const pkg = TOOL_PACKAGES[tool] ?? tool;
  return `podwire: ${tool}: not installed on this node — containers run the node's own tools; install the Debian package ${pkg} (scripts/setup installs every debug image's tools)`;
}

/**
 * Keep `dir` holding one small script per tool of TOOL_PACKAGES that is not
 * on the node's PATH (and none for a tool that is): put on a debug image's
 * PATH after its own directories, it names the package. Returns the
 * missing tools.
 */
export function ensureMissingToolShims(
  dir: string,
  exists: (file: string) => boolean = (f) => fs.existsSync(f),
  searchPath: string[] = NODE_PATH,
): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const missing: string[] = [];
  for (const tool of Object.keys(TOOL_PACKAGES)) {
    const shim = path.join(dir, tool);
    if (searchPath.some((d) => exists(path.join(d, tool)))) {
      fs.rmSync(shim, { force: true });
      continue;
    }
    missing.push(tool);
    const msg = missingToolMessage(tool).replace(/'/g, "'\\''");
    fs.writeFileSync(shim, `#!/bin/sh\necho '${msg}' >&2\nexit 127\n`, { mode: 0o755 });
  }
  return missing;
}
