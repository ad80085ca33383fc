import { describe, it, expect } from 'vitest';
import {
  capabilities,
  containerSecurity,
  execIdentityArgv,
  DEFAULT_CAPS,
  ALL_CAPS,
  SecurityContextError,
} from '../../../src/kubelet/security.js';
import { execProbeArgv } from '../../../src/kubelet/probes.js';
import { podSandboxArgv, containerSandboxArgv, toolPath, type SandboxMounts } from '../../../src/host/index.js';

describe('capabilities as containerd derives them', () => {
  it('the default set, in capability-number order', () => {
    expect(capabilities()).toEqual([
      'CHOWN',
      'DAC_OVERRIDE',
      'FOWNER',
      'FSETID',
      'KILL',
      'SETGID',
      'SETUID',
      'SETPCAP',
      'NET_BIND_SERVICE',
      'NET_RAW',
      'SYS_CHROOT',
      'MKNOD',
      'AUDIT_WRITE',
      'SETFCAP',
    ]);
    expect(new Set(capabilities())).toEqual(new Set(DEFAULT_CAPS));
  });
  it('add and drop single names, with or without CAP_, any case', () => {
    const c = capabilities(['NET_ADMIN', 'cap_sys_time'], ['NET_RAW', 'CAP_MKNOD']);
    expect(c).toContain('NET_ADMIN');
    expect(c).toContain('SYS_TIME');
    expect(c).not.toContain('NET_RAW');
    expect(c).not.toContain('MKNOD');
  });
  it('drop ALL then add one is that one; add ALL then drop one is all but it', () => {
    expect(capabilities(['NET_BIND_SERVICE'], ['ALL'])).toEqual(['NET_BIND_SERVICE']);
    expect(capabilities(['ALL'], ['SYS_ADMIN'])).toEqual(ALL_CAPS.filter((c) => c !== 'SYS_ADMIN'));
  });
  it('an unknown capability is refused', () => {
    expect(() => capabilities(['NET_WIZARD'])).toThrow(SecurityContextError);
  });
});

describe('a container’s identity from its securityContext over the pod’s', () => {
  it('root, default caps, no_new_privs without one', () => {
    expect(containerSecurity(undefined, undefined)).toEqual({
      uid: 0,
      gid: 0,
      groups: [0],
      caps: capabilities(),
      privileged: false,
      readOnlyRootFilesystem: false,
      noNewPrivs: true,
    });
  });
  it('the container’s runAsUser wins over the pod’s; groups: primary, supplementalGroups, fsGroup', () => {
    const s = containerSecurity(
      { runAsUser: 1000, readOnlyRootFilesystem: true },
      { runAsUser: 2000, runAsGroup: 3000, supplementalGroups: [4000], fsGroup: 5000 },
    );
    expect(s).toMatchObject({ uid: 1000, gid: 3000, groups: [3000, 4000, 5000], readOnlyRootFilesystem: true });
  });
  it('privileged: every capability', () => {
    expect(containerSecurity({ privileged: true }, undefined).caps).toEqual([...ALL_CAPS]);
  });
  it('runAsNonRoot with root refused, as the kubelet refuses it', () => {
    expect(() => containerSecurity({ runAsNonRoot: true }, undefined)).toThrow(
      /runAsNonRoot and image will run as root/,
    );
    expect(() => containerSecurity(undefined, { runAsNonRoot: true, runAsUser: 0 })).toThrow(/runAsUser 0/);
    expect(containerSecurity({ runAsNonRoot: true }, { runAsUser: 7 }).uid).toBe(7);
  });
  it('setpriv drops to it: user, groups, bounding set, no inheritable caps', () => {
    expect(
      execIdentityArgv(
        containerSecurity({ runAsUser: 1000, capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] } }, undefined),
      ),
    ).toEqual([
      toolPath('setpriv'),
      '--reuid=1000',
      '--regid=0',
      '--groups=0',
      '--bounding-set=-all,+net_admin',
      '--inh-caps=-all',
      '--',
    ]);
    expect(execIdentityArgv(containerSecurity({ privileged: true }, undefined))).toEqual([
      toolPath('setpriv'),
      '--reuid=0',
      '--regid=0',
      '--groups=0',
      '--',
    ]);
  });
});

const mounts: SandboxMounts = {
  readOnlyRoot: true,
  tmpfs: [{ dest: '/tmp', mode: '1777' }, { dest: '/run' }],
  binds: [{ src: '/run/podwire/l/n1/pods/u/etc.pod/hosts', dest: '/etc/hosts', readOnly: false }],
  hostDev: false,
};

describe('sandbox argv (bubblewrap under nsenter)', () => {
  it('the pod’s sandbox: pause in new PID, UTS, IPC namespaces in the pod’s netns', () => {
    expect(podSandboxArgv({ netns: 'pw-pod-a', hostname: 'a', mounts, pause: ['/w', 'pause'] })).toEqual([
      toolPath('nsenter'),
      '--net=/run/netns/pw-pod-a',
      '--',
      toolPath('bwrap'),
      '--ro-bind',
      '/',
      '/',
      '--perms',
      '1777',
      '--tmpfs',
      '/tmp',
      '--tmpfs',
      '/run',
      '--bind',
      '/run/podwire/l/n1/pods/u/etc.pod/hosts',
      '/etc/hosts',
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      '--unshare-pid',
      '--unshare-uts',
      '--unshare-ipc',
      '--hostname',
      'a',
      '--cap-drop',
      'ALL',
      '--chdir',
      '/',
      '--',
      '/w',
      'pause',
    ]);
  });
  it('a container joins the pod’s UTS and IPC, has its own PID namespace unless it shares the pod’s (by fd)', () => {
    const base = { netns: 'pw-pod-a', podPid: 77, mounts, caps: ['NET_RAW'], cwd: '/srv', argv: ['sleep', '1'] };
    const own = containerSandboxArgv({ ...base, podPidnsFd: null });
    expect(own.slice(0, 6)).toEqual([
      toolPath('nsenter'),
      '--net=/run/netns/pw-pod-a',
      '--uts=/proc/77/ns/uts',
      '--ipc=/proc/77/ns/ipc',
      '--',
      toolPath('bwrap'),
    ]);
    expect(own).toContain('--unshare-pid');
    expect(own.join(' ')).toContain('--cap-drop ALL --cap-add CAP_NET_RAW --chdir /srv -- sleep 1');
    const shared = containerSandboxArgv({ ...base, podPidnsFd: 3 });
    expect(shared).not.toContain('--unshare-pid');
    expect(shared.join(' ')).toContain('--pidns 3');
    expect(containerSandboxArgv({ ...base, podPidnsFd: null, caps: 'all' }).join(' ')).toContain('--cap-add ALL');
  });
  it('privileged: the node’s / writable and its /dev', () => {
    const argv = podSandboxArgv({
      netns: 'n',
      hostname: 'h',
      mounts: { ...mounts, readOnlyRoot: false, hostDev: true },
      pause: ['p'],
    });
    expect(argv.join(' ')).toContain(`${toolPath('bwrap')} --bind / /`);
    expect(argv.join(' ')).toContain('--dev-bind /dev /dev');
  });
});

describe('exec probes enter the container as exec does', () => {
  it('every namespace of its process, its root and directory, then its identity', () => {
    const security = containerSecurity({ runAsUser: 1000 }, undefined);
    expect(
      execProbeArgv({ netns: 'pw-pod-a', exec: { pid: 4242, env: {}, security } }, ['cat', '/etc/resolv.conf']),
    ).toEqual([
      toolPath('nsenter'),
      '--target',
      '4242',
      '--all',
      '--root',
      '--wd',
      '--',
      ...execIdentityArgv(security),
      'cat',
      '/etc/resolv.conf',
    ]);
  });
  it('the pod’s netns without a running container', () => {
    expect(execProbeArgv({ netns: 'pw-pod-a', exec: null }, ['true'])).toEqual([
      toolPath('nsenter'),
      '--net=/run/netns/pw-pod-a',
      '--',
      'true',
    ]);
  });
});
