// The Pod Security checks as case tables: each control at each level, with upstream's wording,
// the versions checks apply from, and the order violations are reported in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatePod, forbiddenDetail, forbiddenReason } from '../../../src/apiserver/admission/pod-security/evaluate.js';
import type { LevelVersion } from '../../../src/apiserver/admission/pod-security/policy.js';

const baseline: LevelVersion = { level: 'baseline', version: 'latest' };
const restricted: LevelVersion = { level: 'restricted', version: 'latest' };

/** A pod that passes restricted; cases change one thing. */
function hardened(): Record<string, unknown> {
  return {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{ name: 'c', image: 'nginx', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
  };
}
const c0 = (spec: Record<string, unknown>) => (spec.containers as Record<string, unknown>[])[0];
const sc0 = (spec: Record<string, unknown>) => c0(spec).securityContext as Record<string, unknown>;

interface Case {
  name: string;
  at: LevelVersion;
  change: (spec: Record<string, unknown>) => void;
  annotations?: Record<string, string>;
  detail?: string;
}

const cases: Case[] = [
  { name: 'hardened pod passes restricted', at: restricted, change: () => {} },
  { name: 'hostNetwork/hostPID/hostIPC', at: baseline, change: (s) => Object.assign(s, { hostNetwork: true, hostPID: true, hostIPC: true }), detail: 'host namespaces (hostIPC=true, hostNetwork=true, hostPID=true)' },
  { name: 'hostNetwork=false is fine', at: baseline, change: (s) => Object.assign(s, { hostNetwork: false }) },
  { name: 'privileged', at: baseline, change: (s) => (sc0(s).privileged = true), detail: 'privileged (container "c" must not set securityContext.privileged=true)' },
  {
    name: 'capabilities beyond the baseline set',
    at: baseline,
    change: (s) => (sc0(s).capabilities = { add: ['SYS_ADMIN', 'CHOWN', 'NET_RAW'] }),
    detail: 'non-default capabilities (container "c" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add)',
  },
  { name: 'baseline capabilities are fine at baseline', at: baseline, change: (s) => (sc0(s).capabilities = { add: ['CHOWN', 'NET_BIND_SERVICE', 'KILL'] }) },
  { name: 'hostPath volume', at: baseline, change: (s) => (s.volumes = [{ name: 'h', hostPath: { path: '/' } }, { name: 'e', emptyDir: {} }]), detail: 'hostPath volumes (volume "h")' },
  {
    name: 'hostPorts across containers',
    at: baseline,
    change: (s) => {
      s.initContainers = [{ name: 'i', image: 'busybox', ports: [{ containerPort: 9, hostPort: 9090 }] }];
      c0(s).ports = [{ containerPort: 80, hostPort: 80 }, { containerPort: 81 }];
    },
    detail: 'hostPort (containers "i", "c" use hostPorts 80, 9090)',
  },
  {
    name: 'AppArmor Unconfined, field and annotation',
    at: baseline,
    change: (s) => (sc0(s).appArmorProfile = { type: 'Unconfined' }),
    annotations: { 'container.apparmor.security.beta.kubernetes.io/c': 'unconfined' },
    detail: 'forbidden AppArmor profiles (container "c" and annotation must not set securityContext.appArmorProfile.type to "Unconfined", container.apparmor.security.beta.kubernetes.io/c="unconfined")',
  },
  { name: 'AppArmor RuntimeDefault and localhost/ annotations are fine', at: baseline, change: (s) => (sc0(s).appArmorProfile = { type: 'RuntimeDefault' }), annotations: { 'container.apparmor.security.beta.kubernetes.io/c': 'localhost/x' } },
  {
    name: 'SELinux type, user and role',
    at: baseline,
    change: (s) => {
      (s.securityContext as Record<string, unknown>).seLinuxOptions = { type: 'spc_t' };
      sc0(s).seLinuxOptions = { user: 'root', role: 'sysadm_r' };
    },
    detail: 'seLinuxOptions (pod and container "c" set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set; role may not be set)',
  },
  { name: 'SELinux container_t is fine', at: baseline, change: (s) => (sc0(s).seLinuxOptions = { type: 'container_t', level: 's0:c1' }) },
  { name: '/proc mount Unmasked', at: baseline, change: (s) => (sc0(s).procMount = 'Unmasked'), detail: 'procMount (container "c" must not set securityContext.procMount to "Unmasked")' },
  {
    name: 'seccomp Unconfined at baseline',
    at: baseline,
    change: (s) => ((s.securityContext as Record<string, unknown>).seccompProfile = { type: 'Unconfined' }),
    detail: 'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")',
  },
  {
    name: 'sysctls outside the safe set',
    at: baseline,
    change: (s) => ((s.securityContext as Record<string, unknown>).sysctls = [{ name: 'net.ipv4.tcp_syncookies', value: '1' }, { name: 'kernel.msgmax', value: '1' }, { name: 'net.ipv4.ip_forward', value: '1' }]),
    detail: 'forbidden sysctls (kernel.msgmax, net.ipv4.ip_forward)',
  },
  { name: 'Windows hostProcess', at: baseline, change: (s) => (sc0(s).windowsOptions = { hostProcess: true }), detail: 'hostProcess (container "c" must not set securityContext.windowsOptions.hostProcess=true)' },
  {
    name: 'restricted: allowPrivilegeEscalation unset',
    at: restricted,
    change: (s) => delete sc0(s).allowPrivilegeEscalation,
    detail: 'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false)',
  },
  {
    name: 'restricted: capabilities not dropped and one added',
    at: restricted,
    change: (s) => (sc0(s).capabilities = { add: ['NET_BIND_SERVICE', 'CHOWN'] }),
    detail: 'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]; container "c" must not include "CHOWN" in securityContext.capabilities.add)',
  },
  {
    name: 'restricted: volume types',
    at: restricted,
    change: (s) => (s.volumes = [{ name: 'a', nfs: { server: 'x', path: '/' } }, { name: 'b', hostPath: { path: '/' } }, { name: 'ok', configMap: { name: 'x' } }]),
    detail: 'restricted volume types (volumes "a", "b" use restricted volume types "hostPath", "nfs")',
  },
  {
    name: 'restricted: runAsNonRoot false on the container',
    at: restricted,
    change: (s) => (sc0(s).runAsNonRoot = false),
    detail: 'runAsNonRoot != true (container "c" must not set securityContext.runAsNonRoot=false)',
  },
  {
    name: 'restricted: runAsNonRoot unset everywhere',
    at: restricted,
    change: (s) => delete (s.securityContext as Record<string, unknown>).runAsNonRoot,
    detail: 'runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true)',
  },
  { name: 'restricted: runAsUser 0', at: restricted, change: (s) => (sc0(s).runAsUser = 0), detail: 'runAsUser=0 (container "c" must not set runAsUser=0)' },
  {
    name: 'restricted: seccomp unset',
    at: restricted,
    change: (s) => delete (s.securityContext as Record<string, unknown>).seccompProfile,
    detail: 'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
  },
  { name: 'restricted: container-level Localhost seccomp is enough', at: restricted, change: (s) => { delete (s.securityContext as Record<string, unknown>).seccompProfile; sc0(s).seccompProfile = { type: 'Localhost', localhostProfile: 'p.json' }; } },
  { name: 'restricted:v1.22 does not check runAsUser', at: { level: 'restricted', version: 22 }, change: (s) => (sc0(s).runAsUser = 0) },
  { name: 'restricted:v1.21 does not check capabilities', at: { level: 'restricted', version: 21 }, change: (s) => delete sc0(s).capabilities },
  {
    name: 'restricted keeps the baseline checks first',
    at: restricted,
    change: (s) => {
      s.hostPID = true;
      sc0(s).privileged = true;
      delete sc0(s).allowPrivilegeEscalation;
    },
    detail: 'host namespaces (hostPID=true), privileged (container "c" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false)',
  },
];

for (const c of cases) {
  test(`${c.name} (${c.at.level}:${c.at.version})`, () => {
    const spec = hardened();
    c.change(spec);
    const e = evaluatePod(c.at, { annotations: c.annotations ?? {} }, spec);
    if (c.detail === undefined) assert.deepEqual(e.violations, [], 'allowed');
    else {
      assert.equal(e.allowed, false);
      assert.equal(forbiddenDetail(e), c.detail);
    }
  });
}

test('privileged allows everything; the short reason lists reasons only', () => {
  const spec = hardened();
  Object.assign(spec, { hostNetwork: true });
  sc0(spec).privileged = true;
  assert.equal(evaluatePod({ level: 'privileged', version: 'latest' }, {}, spec).allowed, true);
  assert.equal(forbiddenReason(evaluatePod(baseline, {}, spec)), 'host namespaces, privileged');
});

test('ephemeral containers are checked like the others', () => {
  const spec = hardened();
  spec.ephemeralContainers = [{ name: 'debugger', image: 'busybox', securityContext: { privileged: true } }];
  assert.equal(forbiddenDetail(evaluatePod(baseline, {}, spec)), 'privileged (container "debugger" must not set securityContext.privileged=true)');
});
