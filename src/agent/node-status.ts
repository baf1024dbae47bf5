// The Node object this agent keeps: labels, addresses, capacity, node info, conditions and the
// kubelet endpoint (status.daemonEndpoints with the InternalIP, as upstream) the API server proxies
// exec/logs/port-forward to. Pure builders here; the registration loop lives in node-registration.ts.
import type { KubeObject } from '../api/types.js';

export const KUBELET_VERSION = 'v1.32.0-flatnet';
export const RUNTIME_VERSION = 'flatnet://0.1';
/** The kubelet's default --max-pods: the node's capacity and allocatable `pods`. */
export const MAX_PODS = 110;

export interface NodeFacts {
  nodeName: string;
  nodeIP: string;
  arch: string;
  cpus: number;
  memoryBytes: number;
  kernelVersion: string;
  osImage: string;
  machineID: string;
  bootID: string;
  kubeletEndpoint: string;
  networkReady: boolean;
  networkMessage?: string;
  /** What keeps the node's runtime from running pods (kubelet-shaped messages); none = ready. */
  runtimeErrors?: string[];
  /** The pods this node takes (--max-pods; default MAX_PODS): its capacity and allocatable `pods`. */
  maxPods?: number;
}

export interface NodeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastHeartbeatTime: string;
  lastTransitionTime: string;
}

export function goArch(nodeArch: string): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[nodeArch] ?? nodeArch;
}

export function nodeMetadata(f: NodeFacts): KubeObject['metadata'] {
  return {
    name: f.nodeName,
    labels: {
      'kubernetes.io/hostname': f.nodeName,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': f.arch,
      'beta.kubernetes.io/os': 'linux',
      'beta.kubernetes.io/arch': f.arch,
    },
    annotations: {
      'node.alpha.kubernetes.io/ttl': '0',
    },
  };
}

function condition(type: string, ok: boolean, reason: string, message: string, now: string, previous?: NodeCondition[]): NodeCondition {
  const status = ok ? 'True' : 'False';
  const old = previous?.find((c) => c.type === type);
  return { type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now };
}

export function nodeConditions(f: NodeFacts, now: string, previous?: NodeCondition[]): NodeCondition[] {
  return [
    condition('NetworkUnavailable', !f.networkReady, f.networkReady ? 'FlatnetIsUp' : 'NoNetwork', f.networkReady ? 'flatnet set up the pod network of this node' : (f.networkMessage ?? 'the pod network is not set up yet'), now, previous),
    condition('MemoryPressure', false, 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available', now, previous),
    condition('DiskPressure', false, 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', now, previous),
    condition('PIDPressure', false, 'KubeletHasSufficientPID', 'kubelet has sufficient PID available', now, previous),
    readyCondition(f.runtimeErrors ?? [], now, previous),
  ];
}

/**
 * Ready as the kubelet sets it: True (KubeletReady) while the runtime is healthy, else False with
 * reason KubeletNotReady and the runtime's errors (one as is, several as "[a, b]").
 */
export function readyCondition(runtimeErrors: string[], now: string, previous?: NodeCondition[]): NodeCondition {
  if (runtimeErrors.length === 0) return condition('Ready', true, 'KubeletReady', 'kubelet is posting ready status', now, previous);
  const message = runtimeErrors.length === 1 ? runtimeErrors[0] : `[${runtimeErrors.join(', ')}]`;
  return condition('Ready', false, 'KubeletNotReady', message, now, previous);
}

/** The node's capacity, which is also its allocatable (nothing reserved for the system): what admission and the scheduler fit pods into. */
export function nodeResources(f: Pick<NodeFacts, 'cpus' | 'memoryBytes' | 'maxPods'>): Record<string, string> {
  return {
    cpu: String(f.cpus),
    memory: `${Math.floor(f.memoryBytes / 1024)}Ki`,
    pods: String(f.maxPods ?? MAX_PODS),
    'ephemeral-storage': '10Gi',
  };
}

export function nodeStatus(f: NodeFacts, now: string, previous?: NodeCondition[]): Record<string, unknown> {
  const resources = nodeResources(f);
  const port = Number(f.kubeletEndpoint.split(':').pop()) || 10250;
  return {
    capacity: resources,
    allocatable: resources,
    conditions: nodeConditions(f, now, previous),
    addresses: [
      { type: 'InternalIP', address: f.nodeIP },
      { type: 'Hostname', address: f.nodeName },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: port } },
    nodeInfo: {
      machineID: f.machineID,
      systemUUID: f.machineID,
      bootID: f.bootID,
      kernelVersion: f.kernelVersion,
      osImage: f.osImage,
      containerRuntimeVersion: RUNTIME_VERSION,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: KUBELET_VERSION,
      operatingSystem: 'linux',
      architecture: f.arch,
    },
  };
}

/**
 * The event the kubelet records when the node's Ready condition changes: reason NodeReady or
 * NodeNotReady, "Node <name> status is now: <reason>", on the Node (namespace default, uid = name).
 */
export function nodeReadyEvent(nodeName: string, ready: boolean, now: Date): KubeObject {
  const reason = ready ? 'NodeReady' : 'NodeNotReady';
  const time = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${nodeName}.${now.getTime().toString(16)}${Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0')}`, namespace: 'default' },
    involvedObject: { apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeName },
    reason,
    message: `Node ${nodeName} status is now: ${reason}`,
    type: 'Normal',
    source: { component: 'kubelet', host: nodeName },
    firstTimestamp: time,
    lastTimestamp: time,
    count: 1,
    reportingComponent: 'kubelet',
    reportingInstance: nodeName,
  } as KubeObject;
}

/** A --max-pods value: a whole number of pods from 1, or an error naming the flag. */
export function parseMaxPods(value: string): number | { error: string } {
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) return { error: `--max-pods must be a whole number of pods from 1 (got "${value}")` };
  return n;
}

/** MicroTime as the Lease API writes it (microseconds, Z). */
export function microTime(date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function nodeLease(nodeName: string, nodeUid: string | undefined, now: string, durationSeconds = 40): KubeObject {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: nodeName,
      namespace: 'kube-node-lease',
      ...(nodeUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }] } : {}),
    },
    spec: { holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: now },
  };
}
