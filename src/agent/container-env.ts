// The environment the kubelet gives a container: envFrom, env (with $(VAR) references and
// valueFrom), the pod's HOSTNAME, and the Service variables (the `kubernetes` Service always;
// the namespace's Services in docker-link style when enableServiceLinks is not false).
import type { Container, DataObject, Pod, Service } from './pod-types.js';

export interface EnvSources {
  pod: Pod;
  podIP?: string;
  hostIP?: string;
  /** Services of the pod's namespace (for links) and the `kubernetes` Service of `default`. */
  namespaceServices: Service[];
  masterService?: Service;
  configMap(name: string): DataObject | undefined;
  secret(name: string): DataObject | undefined;
}

/** A container cannot start because a reference in its environment is missing. */
export class ContainerConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
}

/** The variables for one Service, as the kubelet names them. */
export function serviceEnv(svc: Service): Record<string, string> {
  const env: Record<string, string> = {};
  const ip = svc.spec.clusterIP;
  if (!ip || ip === 'None') return env;
  const prefix = (svc.metadata.name ?? '').toUpperCase().replace(/-/g, '_');
  const ports = svc.spec.ports ?? [];
  if (ports.length === 0) return env;
  env[`${prefix}_SERVICE_HOST`] = ip;
  env[`${prefix}_SERVICE_PORT`] = String(ports[0].port);
  for (const p of ports) {
    if (p.name) env[`${prefix}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`] = String(p.port);
  }
  const first = ports[0];
  env[`${prefix}_PORT`] = `${(first.protocol ?? 'TCP').toLowerCase()}://${ip}:${first.port}`;
  for (const p of ports) {
    const proto = (p.protocol ?? 'TCP').toUpperCase();
    const base = `${prefix}_PORT_${p.port}_${proto}`;
    env[base] = `${proto.toLowerCase()}://${ip}:${p.port}`;
    env[`${base}_PROTO`] = proto.toLowerCase();
    env[`${base}_PORT`] = String(p.port);
    env[`${base}_ADDR`] = ip;
  }
  return env;
}

/** Expands $(VAR) from `env`; $$ is a literal $; unknown references stay as written. */
export function expandVars(text: string, env: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '$' && text[i + 1] === '$') {
      out += '$';
      i++;
    } else if (c === '$' && text[i + 1] === '(') {
      const end = text.indexOf(')', i + 2);
      if (end === -1) {
        out += text.slice(i);
        break;
      }
      const name = text.slice(i + 2, end);
      out += name in env ? env[name] : text.slice(i, end + 1);
      i = end;
    } else out += c;
  }
  return out;
}

function fieldValue(pod: Pod, path: string, podIP?: string, hostIP?: string): string {
  const mapKey = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (mapKey) return (mapKey[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[mapKey[2]] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? 'default';
    case 'status.podIP':
    case 'status.podIPs':
      return podIP ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return hostIP ?? '';
    default:
      throw new ContainerConfigError(`env valueFrom.fieldRef.fieldPath "${path}" is not supported by flatnet (use metadata.name, metadata.namespace, metadata.uid, metadata.labels['k'], metadata.annotations['k'], spec.nodeName, spec.serviceAccountName, status.podIP, status.hostIP)`);
  }
}

function dataValue(obj: DataObject, key: string): string | undefined {
  if (obj.data && key in obj.data) return obj.data[key];
  if (obj.binaryData && key in obj.binaryData) return Buffer.from(obj.binaryData[key], 'base64').toString('utf8');
  return undefined;
}

function secretValue(obj: DataObject, key: string): string | undefined {
  const v = obj.data?.[key];
  if (v !== undefined) return Buffer.from(v, 'base64').toString('utf8');
  const s = (obj as { stringData?: Record<string, string> }).stringData?.[key];
  return s;
}

/** The whole environment of `container`, in the order a process sees it. */
export function composeContainerEnv(container: Container, src: EnvSources): Record<string, string> {
  const { pod } = src;
  const env: Record<string, string> = {};
  const ns = pod.metadata.namespace ?? 'default';
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const cm = src.configMap(from.configMapRef.name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${from.configMapRef.name}" not found`);
      }
      for (const key of Object.keys(cm.data ?? {})) env[prefix + key] = cm.data![key];
    }
    if (from.secretRef) {
      const s = src.secret(from.secretRef.name);
      if (!s) {
        if (from.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${from.secretRef.name}" not found`);
      }
      for (const key of Object.keys(s.data ?? {})) env[prefix + key] = secretValue(s, key) ?? '';
    }
  }
  for (const v of container.env ?? []) {
    if (v.valueFrom?.fieldRef) env[v.name] = fieldValue(pod, v.valueFrom.fieldRef.fieldPath, src.podIP, src.hostIP);
    else if (v.valueFrom?.configMapKeyRef) {
      const ref = v.valueFrom.configMapKeyRef;
      const cm = src.configMap(ref.name);
      const value = cm ? dataValue(cm, ref.key) : undefined;
      if (value === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(cm ? `couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name}` : `configmap "${ref.name}" not found`);
      }
      env[v.name] = value;
    } else if (v.valueFrom?.secretKeyRef) {
      const ref = v.valueFrom.secretKeyRef;
      const s = src.secret(ref.name);
      const value = s ? secretValue(s, ref.key) : undefined;
      if (value === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(s ? `couldn't find key ${ref.key} in Secret ${ns}/${ref.name}` : `secret "${ref.name}" not found`);
      }
      env[v.name] = value;
    } else if (v.valueFrom?.resourceFieldRef) {
      env[v.name] = '0';
    } else env[v.name] = expandVars(v.value ?? '', env);
  }
  const services: Record<string, string> = {};
  if (pod.spec.enableServiceLinks !== false) {
    for (const svc of src.namespaceServices) Object.assign(services, serviceEnv(svc));
  }
  // The master Service's variables are always set, whatever enableServiceLinks says.
  if (src.masterService) Object.assign(services, serviceEnv(src.masterService));
  const result: Record<string, string> = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOSTNAME: podHostname(pod) };
  for (const [k, val] of Object.entries(services)) result[k] = val;
  for (const [k, val] of Object.entries(env)) result[k] = val;
  return result;
}

export function podHostname(pod: Pod): string {
  const name = pod.spec.hostname ?? pod.metadata.name ?? 'pod';
  return name.slice(0, 63).replace(/[-.]+$/, '');
}

/** command/args with $(VAR) references expanded. */
export function expandCommand(argv: string[] | undefined, env: Record<string, string>): string[] | undefined {
  return argv?.map((a) => expandVars(a, env));
}
