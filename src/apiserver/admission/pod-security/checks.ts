// The Pod Security Standards checks, one per control, as upstream's pod-security-admission
// defines them (IDs, levels, the versions they apply from, and the reason/detail wording clients
// and people match on). Each check reads a pod's metadata and spec as stored JSON and answers
// nothing (allowed) or a violation. Pure functions only.
import type { Level, Version } from './policy.js';
import { versionAtLeast } from './policy.js';

type Json = Record<string, unknown>;

export interface PodMeta {
  annotations?: Record<string, string>;
}

export interface Violation {
  reason: string;
  detail: string;
}

export interface PodCheck {
  id: string;
  level: Exclude<Level, 'privileged'>;
  /** A baseline check that a restricted check replaces: evaluated only at the baseline level. */
  overlap?: boolean;
  /** The first policy version (v1.<minor>) the check applies to. */
  since: number;
  run(meta: PodMeta, pod: PodView, version: Version): Violation | undefined;
}

/** A pod spec as the checks read it: the spec and its containers, gathered once for all checks. */
export interface PodView {
  spec: Json;
  /** Init containers, containers, then ephemeral containers: the order upstream visits them in. */
  containers: readonly Json[];
}

// ---- reading the spec ----

const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export function podView(spec: Json): PodView {
  return { spec, containers: [...arr(spec.initContainers), ...arr(spec.containers), ...arr(spec.ephemeralContainers)] };
}
const nameOf = (c: Json): string => str(c.name);
const securityContext = (c: Json): Json | undefined => (c.securityContext !== null && typeof c.securityContext === 'object' ? obj(c.securityContext) : undefined);
const podSecurityContext = (spec: Json): Json | undefined => (spec.securityContext !== null && typeof spec.securityContext === 'object' ? obj(spec.securityContext) : undefined);
const isWindows = (spec: Json): boolean => str(obj(spec.os).name) === 'windows';

// ---- wording ----

export function pluralize(singular: string, plural: string, n: number): string {
  return n === 1 ? singular : plural;
}

/** `"a", "b"`: each value quoted as Go's %q does for ordinary names. */
export function joinQuote(items: readonly string[]): string {
  return items.map((s) => JSON.stringify(s)).join(', ');
}

const sorted = (s: Set<string>): string[] => [...s].sort();
const containersPhrase = (names: string[]): string => `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;

/** `pod and containers "a", "b"` from who set a forbidden value. */
function setters(pod: boolean, containers: string[]): string {
  const who: string[] = [];
  if (pod) who.push('pod');
  if (containers.length > 0) who.push(containersPhrase(containers));
  return who.join(' and ');
}

// ---- baseline ----

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';
const appArmorTypeAllowed = (t: string): boolean => t === 'RuntimeDefault' || t === 'Localhost';
const appArmorAnnotationAllowed = (v: string): boolean => v === '' || v === 'runtime/default' || v.startsWith('localhost/');

const appArmorProfile: PodCheck = {
  id: 'appArmorProfile',
  level: 'baseline',
  since: 0,
  run(meta, { spec, containers }) {
    const badValues = new Set<string>();
    let podBad = false;
    const podProfile = podSecurityContext(spec)?.appArmorProfile;
    if (podProfile !== undefined && podProfile !== null && !appArmorTypeAllowed(str(obj(podProfile).type))) {
      podBad = true;
      badValues.add(str(obj(podProfile).type));
    }
    const badContainers: string[] = [];
    for (const c of containers) {
      const profile = securityContext(c)?.appArmorProfile;
      if (profile !== undefined && profile !== null && !appArmorTypeAllowed(str(obj(profile).type))) {
        badContainers.push(nameOf(c));
        badValues.add(str(obj(profile).type));
      }
    }
    const annotations = Object.entries(meta.annotations ?? {})
      .filter(([k, v]) => k.startsWith(APPARMOR_ANNOTATION_PREFIX) && !appArmorAnnotationAllowed(v))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .sort();
    let who = setters(podBad, badContainers);
    const values = sorted(badValues).map((v) => JSON.stringify(v));
    if (annotations.length > 0) {
      who = [who, pluralize('annotation', 'annotations', annotations.length)].filter(Boolean).join(' and ');
      values.push(...annotations);
    }
    if (!who) return undefined;
    return {
      reason: pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', values.length),
      detail: `${who} must not set securityContext.appArmorProfile.type to ${values.join(', ')}`,
    };
  },
};

const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);

const capabilitiesBaseline: PodCheck = {
  id: 'capabilities_baseline',
  level: 'baseline',
  overlap: true,
  since: 0,
  run(_meta, { containers }) {
    const bad: string[] = [];
    const caps = new Set<string>();
    for (const c of containers) {
      const add = (obj(securityContext(c)?.capabilities).add as unknown[] | undefined) ?? [];
      let ok = true;
      for (const cap of Array.isArray(add) ? add : []) {
        if (!BASELINE_CAPABILITIES.has(str(cap))) {
          ok = false;
          caps.add(str(cap));
        }
      }
      if (!ok) bad.push(nameOf(c));
    }
    if (bad.length === 0) return undefined;
    return { reason: 'non-default capabilities', detail: `${containersPhrase(bad)} must not include ${joinQuote(sorted(caps))} in securityContext.capabilities.add` };
  },
};

const hostNamespaces: PodCheck = {
  id: 'hostNamespaces',
  level: 'baseline',
  since: 0,
  run(_meta, { spec }) {
    if (spec.hostIPC !== true && spec.hostNetwork !== true && spec.hostPID !== true) return undefined;
    const used = (['hostIPC', 'hostNetwork', 'hostPID'] as const).filter((f) => spec[f] === true).map((f) => `${f}=true`);
    return { reason: 'host namespaces', detail: used.join(', ') };
  },
};

const hostPathVolumes: PodCheck = {
  id: 'hostPathVolumes',
  level: 'baseline',
  overlap: true,
  since: 0,
  run(_meta, { spec }) {
    const names = arr(spec.volumes).filter((v) => v.hostPath !== undefined && v.hostPath !== null).map((v) => str(v.name));
    if (names.length === 0) return undefined;
    return { reason: 'hostPath volumes', detail: `${pluralize('volume', 'volumes', names.length)} ${joinQuote(names)}` };
  },
};

const hostPorts: PodCheck = {
  id: 'hostPorts',
  level: 'baseline',
  since: 0,
  run(_meta, { containers }) {
    const bad: string[] = [];
    const ports = new Set<string>();
    for (const c of containers) {
      let ok = true;
      for (const p of arr(c.ports)) {
        const hp = p.hostPort;
        if (hp !== undefined && hp !== null && hp !== 0) {
          ok = false;
          ports.add(String(hp));
        }
      }
      if (!ok) bad.push(nameOf(c));
    }
    if (bad.length === 0) return undefined;
    return {
      reason: 'hostPort',
      detail: `${containersPhrase(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('hostPort', 'hostPorts', ports.size)} ${sorted(ports).join(', ')}`,
    };
  },
};

const privileged: PodCheck = {
  id: 'privileged',
  level: 'baseline',
  since: 0,
  run(_meta, { containers }) {
    const bad = containers.filter((c) => securityContext(c)?.privileged === true).map(nameOf);
    if (bad.length === 0) return undefined;
    return { reason: 'privileged', detail: `${containersPhrase(bad)} must not set securityContext.privileged=true` };
  },
};

const procMount: PodCheck = {
  id: 'procMount',
  level: 'baseline',
  since: 0,
  run(_meta, { containers }) {
    const bad: string[] = [];
    const types = new Set<string>();
    for (const c of containers) {
      const pm = securityContext(c)?.procMount;
      if (pm === undefined || pm === null || pm === 'Default') continue;
      bad.push(nameOf(c));
      types.add(str(pm));
    }
    if (bad.length === 0) return undefined;
    return { reason: 'procMount', detail: `${containersPhrase(bad)} must not set securityContext.procMount to ${joinQuote(sorted(types))}` };
  },
};

const SELINUX_TYPES: ReadonlySet<string> = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t']);
const SELINUX_TYPES_1_31: ReadonlySet<string> = new Set([...SELINUX_TYPES, 'container_engine_t']);

interface SeLinuxFindings {
  allowedTypes: ReadonlySet<string>;
  badTypes: Set<string>;
  setUser: boolean;
  setRole: boolean;
}

/** Whether seLinuxOptions `o` sets a forbidden type, a user or a role; records which in `found`. */
function forbiddenSeLinux(o: unknown, found: SeLinuxFindings): boolean {
  if (o === undefined || o === null) return false;
  const opts = obj(o);
  let wrong = false;
  if (!found.allowedTypes.has(str(opts.type))) {
    wrong = true;
    found.badTypes.add(str(opts.type));
  }
  if (str(opts.user)) wrong = found.setUser = true;
  if (str(opts.role)) wrong = found.setRole = true;
  return wrong;
}

const seLinuxOptions: PodCheck = {
  id: 'seLinuxOptions',
  level: 'baseline',
  since: 0,
  run(_meta, { spec, containers }, version) {
    const found: SeLinuxFindings = { allowedTypes: versionAtLeast(version, 31) ? SELINUX_TYPES_1_31 : SELINUX_TYPES, badTypes: new Set(), setUser: false, setRole: false };
    const podBad = forbiddenSeLinux(podSecurityContext(spec)?.seLinuxOptions, found);
    const badContainers: string[] = [];
    for (const c of containers) if (forbiddenSeLinux(securityContext(c)?.seLinuxOptions, found)) badContainers.push(nameOf(c));
    const who = setters(podBad, badContainers);
    if (!who) return undefined;
    const what: string[] = [];
    if (found.badTypes.size > 0) what.push(`${pluralize('type', 'types', found.badTypes.size)} ${joinQuote(sorted(found.badTypes))}`);
    if (found.setUser) what.push('user may not be set');
    if (found.setRole) what.push('role may not be set');
    return { reason: 'seLinuxOptions', detail: `${who} set forbidden securityContext.seLinuxOptions: ${what.join('; ')}` };
  },
};

const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_ANNOTATION_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';
const seccompTypeAllowed = (t: string): boolean => t === 'RuntimeDefault' || t === 'Localhost';
const seccompAnnotationAllowed = (v: string): boolean => v === 'runtime/default' || v === 'docker/default' || v.startsWith('localhost/');

/** Pod and containers that set seccompProfile.type to a value outside RuntimeDefault/Localhost, and those values. */
function explicitSeccomp({ spec, containers }: PodView): { podBad: boolean; podSet: boolean; badContainers: string[]; unsetContainers: string[]; values: Set<string> } {
  const values = new Set<string>();
  const podProfile = podSecurityContext(spec)?.seccompProfile;
  let podBad = false;
  let podSet = false;
  if (podProfile !== undefined && podProfile !== null) {
    const t = str(obj(podProfile).type);
    if (seccompTypeAllowed(t)) podSet = true;
    else {
      podBad = true;
      values.add(t);
    }
  }
  const badContainers: string[] = [];
  const unsetContainers: string[] = [];
  for (const c of containers) {
    const profile = securityContext(c)?.seccompProfile;
    if (profile !== undefined && profile !== null) {
      const t = str(obj(profile).type);
      if (!seccompTypeAllowed(t)) {
        badContainers.push(nameOf(c));
        values.add(t);
      }
    } else if (!podSet) {
      unsetContainers.push(nameOf(c));
    }
  }
  return { podBad, podSet, badContainers, unsetContainers, values };
}

const seccompProfileBaseline: PodCheck = {
  id: 'seccompProfile_baseline',
  level: 'baseline',
  overlap: true,
  since: 0,
  run(meta, { spec, containers }, version) {
    if (!versionAtLeast(version, 19)) {
      const annotations = meta.annotations ?? {};
      const forbidden = new Set<string>();
      const pod = annotations[SECCOMP_POD_ANNOTATION];
      if (pod !== undefined && !seccompAnnotationAllowed(pod)) forbidden.add(`${SECCOMP_POD_ANNOTATION}=${JSON.stringify(pod)}`);
      for (const c of containers) {
        const key = SECCOMP_CONTAINER_ANNOTATION_PREFIX + nameOf(c);
        const v = annotations[key];
        if (v !== undefined && !seccompAnnotationAllowed(v)) forbidden.add(`${key}=${JSON.stringify(v)}`);
      }
      if (forbidden.size === 0) return undefined;
      return { reason: 'seccompProfile', detail: `forbidden ${pluralize('annotation', 'annotations', forbidden.size)} ${sorted(forbidden).join(', ')}` };
    }
    const s = explicitSeccomp({ spec, containers });
    const who = setters(s.podBad, s.badContainers);
    if (!who) return undefined;
    return { reason: 'seccompProfile', detail: `${who} must not set securityContext.seccompProfile.type to ${joinQuote(sorted(s.values))}` };
  },
};

const SAFE_SYSCTLS = new Set(['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_unprivileged_port_start']);
const SAFE_SYSCTLS_1_29 = ['net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes'];
const SAFE_SYSCTLS_1_32 = ['net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'];
const SAFE_SYSCTLS_BY_VERSION: [since: number, safe: ReadonlySet<string>][] = [
  [32, new Set([...SAFE_SYSCTLS, 'net.ipv4.ip_local_reserved_ports', ...SAFE_SYSCTLS_1_29, ...SAFE_SYSCTLS_1_32])],
  [29, new Set([...SAFE_SYSCTLS, 'net.ipv4.ip_local_reserved_ports', ...SAFE_SYSCTLS_1_29])],
  [27, new Set([...SAFE_SYSCTLS, 'net.ipv4.ip_local_reserved_ports'])],
];

/** The sysctls a policy version allows. */
function safeSysctls(version: Version): ReadonlySet<string> {
  for (const [since, safe] of SAFE_SYSCTLS_BY_VERSION) if (versionAtLeast(version, since)) return safe;
  return SAFE_SYSCTLS;
}

const sysctls: PodCheck = {
  id: 'sysctls',
  level: 'baseline',
  since: 0,
  run(_meta, { spec }, version) {
    const sysctls = podSecurityContext(spec)?.sysctls;
    if (!Array.isArray(sysctls) || sysctls.length === 0) return undefined;
    const safe = safeSysctls(version);
    const bad = arr(sysctls)
      .map((s) => str(s.name))
      .filter((n) => !safe.has(n));
    if (bad.length === 0) return undefined;
    return { reason: 'forbidden sysctls', detail: bad.join(', ') };
  },
};

const hostProcess = (sc: Json | undefined): boolean => obj(sc?.windowsOptions).hostProcess === true;

const windowsHostProcess: PodCheck = {
  id: 'windowsHostProcess',
  level: 'baseline',
  since: 0,
  run(_meta, { spec, containers }) {
    const bad = containers.filter((c) => hostProcess(securityContext(c))).map(nameOf);
    const who = setters(hostProcess(podSecurityContext(spec)), bad);
    if (!who) return undefined;
    return { reason: 'hostProcess', detail: `${who} must not set securityContext.windowsOptions.hostProcess=true` };
  },
};

// ---- restricted ----

const allowPrivilegeEscalation: PodCheck = {
  id: 'allowPrivilegeEscalation',
  level: 'restricted',
  since: 8,
  run(_meta, { spec, containers }, version) {
    if (versionAtLeast(version, 25) && isWindows(spec)) return undefined;
    const bad = containers.filter((c) => securityContext(c)?.allowPrivilegeEscalation !== false).map(nameOf);
    if (bad.length === 0) return undefined;
    return { reason: 'allowPrivilegeEscalation != false', detail: `${containersPhrase(bad)} must set securityContext.allowPrivilegeEscalation=false` };
  },
};

const capabilitiesRestricted: PodCheck = {
  id: 'capabilities_restricted',
  level: 'restricted',
  since: 22,
  run(_meta, { spec, containers }, version) {
    if (versionAtLeast(version, 25) && isWindows(spec)) return undefined;
    const missingDropAll: string[] = [];
    const adding: string[] = [];
    const caps = new Set<string>();
    for (const c of containers) {
      const capabilities = securityContext(c)?.capabilities;
      if (capabilities === undefined || capabilities === null) {
        missingDropAll.push(nameOf(c));
        continue;
      }
      const drop = obj(capabilities).drop;
      if (!(Array.isArray(drop) && drop.includes('ALL'))) missingDropAll.push(nameOf(c));
      const add = obj(capabilities).add;
      let forbidden = false;
      for (const cap of Array.isArray(add) ? add : []) {
        if (cap !== 'NET_BIND_SERVICE') {
          forbidden = true;
          caps.add(str(cap));
        }
      }
      if (forbidden) adding.push(nameOf(c));
    }
    const details: string[] = [];
    if (missingDropAll.length > 0) details.push(`${containersPhrase(missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`);
    if (adding.length > 0) details.push(`${containersPhrase(adding)} must not include ${joinQuote(sorted(caps))} in securityContext.capabilities.add`);
    if (details.length === 0) return undefined;
    return { reason: 'unrestricted capabilities', detail: details.join('; ') };
  },
};

/** The volume source a volume uses: the first key other than `name`. */
function volumeType(v: Json): string {
  return Object.keys(v).find((k) => k !== 'name' && v[k] !== undefined && v[k] !== null) ?? 'unknown';
}
const RESTRICTED_VOLUME_TYPES_ALLOWED = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

const restrictedVolumes: PodCheck = {
  id: 'restrictedVolumes',
  level: 'restricted',
  since: 0,
  run(_meta, { spec }) {
    const bad: string[] = [];
    const types = new Set<string>();
    for (const v of arr(spec.volumes)) {
      const t = volumeType(v);
      if (RESTRICTED_VOLUME_TYPES_ALLOWED.has(t)) continue;
      bad.push(str(v.name));
      types.add(t);
    }
    if (bad.length === 0) return undefined;
    return {
      reason: 'restricted volume types',
      detail: `${pluralize('volume', 'volumes', bad.length)} ${joinQuote(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('restricted volume type', 'restricted volume types', types.size)} ${joinQuote(sorted(types))}`,
    };
  },
};

const runAsNonRoot: PodCheck = {
  id: 'runAsNonRoot',
  level: 'restricted',
  since: 0,
  run(_meta, { spec, containers }) {
    const pod = podSecurityContext(spec)?.runAsNonRoot;
    const podBad = pod === false;
    const podTrue = pod === true;
    const explicitlyBad: string[] = [];
    const implicitlyBad: string[] = [];
    for (const c of containers) {
      const v = securityContext(c)?.runAsNonRoot;
      if (v !== undefined && v !== null) {
        if (v !== true) explicitlyBad.push(nameOf(c));
      } else if (!podTrue) {
        implicitlyBad.push(nameOf(c));
      }
    }
    const who = setters(podBad, explicitlyBad);
    if (who) return { reason: 'runAsNonRoot != true', detail: `${who} must not set securityContext.runAsNonRoot=false` };
    if (implicitlyBad.length > 0) return { reason: 'runAsNonRoot != true', detail: `pod or ${containersPhrase(implicitlyBad)} must set securityContext.runAsNonRoot=true` };
    return undefined;
  },
};

const runAsUser: PodCheck = {
  id: 'runAsUser',
  level: 'restricted',
  since: 23,
  run(_meta, { spec, containers }) {
    const podBad = podSecurityContext(spec)?.runAsUser === 0;
    const bad = containers.filter((c) => securityContext(c)?.runAsUser === 0).map(nameOf);
    const who = setters(podBad, bad);
    if (!who) return undefined;
    return { reason: 'runAsUser=0', detail: `${who} must not set runAsUser=0` };
  },
};

const seccompProfileRestricted: PodCheck = {
  id: 'seccompProfile_restricted',
  level: 'restricted',
  since: 19,
  run(_meta, { spec, containers }, version) {
    if (versionAtLeast(version, 25) && isWindows(spec)) return undefined;
    const s = explicitSeccomp({ spec, containers });
    const who = setters(s.podBad, s.badContainers);
    if (who) return { reason: 'seccompProfile', detail: `${who} must not set securityContext.seccompProfile.type to ${joinQuote(sorted(s.values))}` };
    if (s.unsetContainers.length > 0) {
      return { reason: 'seccompProfile', detail: `pod or ${containersPhrase(s.unsetContainers)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` };
    }
    return undefined;
  },
};

/** Every check, in upstream's registration order (the order violations are reported in). */
export const CHECKS: readonly PodCheck[] = [
  allowPrivilegeEscalation,
  appArmorProfile,
  capabilitiesBaseline,
  capabilitiesRestricted,
  hostNamespaces,
  hostPathVolumes,
  hostPorts,
  privileged,
  procMount,
  restrictedVolumes,
  runAsNonRoot,
  runAsUser,
  seLinuxOptions,
  seccompProfileBaseline,
  seccompProfileRestricted,
  sysctls,
  windowsHostProcess,
];
