// A flow's verdict, computed by a pipeline of stages: the source's egress, then the
// destination's ingress. Each stage reports which policies select its pod and which rule, peer
// and port allowed the flow, so the same result drives `flatnet policy explain`. A future tier
// (AdminNetworkPolicy, BaselineAdminNetworkPolicy) is one more stage in the list.
import { endpointIp, peerMatches, policySelectsPod, portEntryMatches, type Endpoint } from './match.js';
import { policyKey, type Direction, type PolicyModel, type Protocol, type SlimPod, type SlimPolicy } from './model.js';

export interface Flow {
  src: Endpoint;
  dst: Endpoint;
  protocol: Protocol;
  port: number;
}

/** The rule that allowed a flow: policy, direction, rule index, and which peer/port entry. */
export interface RuleMatch {
  policy: string;
  direction: Direction;
  rule: number;
  /** Index of the matching peer; undefined when the rule has no from/to (every peer). */
  peer?: number;
  /** Index of the matching port entry; undefined when the rule has no ports (every port). */
  port?: number;
}

export interface StageVerdict {
  stage: string;
  /** The pod this stage is about (source for egress, destination for ingress), if a pod. */
  subject?: string;
  /** True when some policy isolates the subject in this direction. */
  isolated: boolean;
  /** Policies that select the subject and include this direction. */
  selectedBy: string[];
  /** Rules that allow the flow (all of them: policies are a union). */
  allowedBy: RuleMatch[];
  allowed: boolean;
  reason: string;
}

export interface FlowVerdict {
  allowed: boolean;
  stages: StageVerdict[];
}

export type Stage = (model: PolicyModel, flow: Flow) => StageVerdict;

function podRef(pod: SlimPod): string {
  return `${pod.namespace}/${pod.name}`;
}

/** Rules of the policies that select `subject` for `direction` which allow the flow towards/from `peer`. */
function directionStage(direction: Direction, subjectOf: (f: Flow) => Endpoint, peerOf: (f: Flow) => Endpoint): Stage {
  const stage = direction.toLowerCase();
  return (model, flow) => {
    const subject = subjectOf(flow);
    if (subject.kind !== 'pod') {
      const what = direction === 'Egress' ? 'source' : 'destination';
      return { stage, isolated: false, selectedBy: [], allowedBy: [], allowed: true, reason: `the ${what} ${subject.ip} is not a pod of the cluster; no NetworkPolicy applies to it` };
    }
    const pod = subject.pod;
    const peer = peerOf(flow);
    const destination = flow.dst.kind === 'pod' ? flow.dst.pod : undefined;
    const selecting = model.policiesInNamespace(pod.namespace).filter((p) => p.policyTypes.includes(direction) && policySelectsPod(p, pod));
    const allowedBy: RuleMatch[] = [];
    for (const policy of selecting) allowedBy.push(...matchingRules(model, policy, direction, peer, flow, destination));
    const isolated = selecting.length > 0;
    const allowed = !isolated || allowedBy.length > 0;
    const names = selecting.map(policyKey).sort();
    let reason: string;
    if (!isolated) reason = `no NetworkPolicy with policyType ${direction} selects ${podRef(pod)}: not isolated for ${stage}`;
    else if (allowed) reason = `${podRef(pod)} is isolated for ${stage} by ${names.join(', ')}; allowed by ${allowedBy.map(formatRuleMatch).join('; ')}`;
    else reason = `${podRef(pod)} is isolated for ${stage} by ${names.join(', ')} and no ${stage} rule of them allows ${endpointIp(peer)} on ${flow.protocol}/${flow.port}`;
    return { stage, subject: podRef(pod), isolated, selectedBy: names, allowedBy, allowed, reason };
  };
}

function matchingRules(model: PolicyModel, policy: SlimPolicy, direction: Direction, peer: Endpoint, flow: Flow, destination: SlimPod | undefined): RuleMatch[] {
  const rules = direction === 'Ingress' ? policy.ingress : policy.egress;
  const out: RuleMatch[] = [];
  rules.forEach((rule, ruleIndex) => {
    let peerIndex: number | undefined;
    if (rule.peers.length > 0) {
      peerIndex = rule.peers.findIndex((p) => peerMatches(model, policy.namespace, p, peer));
      if (peerIndex < 0) return;
    }
    let portIndex: number | undefined;
    if (rule.ports.length > 0) {
      portIndex = rule.ports.findIndex((p) => portEntryMatches(p, flow.protocol, flow.port, destination));
      if (portIndex < 0) return;
    }
    out.push({ policy: policyKey(policy), direction, rule: ruleIndex, peer: peerIndex, port: portIndex });
  });
  return out;
}

export function formatRuleMatch(m: RuleMatch): string {
  const section = m.direction === 'Ingress' ? 'ingress' : 'egress';
  const peerField = m.direction === 'Ingress' ? 'from' : 'to';
  const peer = m.peer === undefined ? `no ${peerField} (every peer)` : `${peerField}[${m.peer}]`;
  const port = m.port === undefined ? 'no ports (every port)' : `ports[${m.port}]`;
  return `${m.policy} ${section}[${m.rule}] ${peer}, ${port}`;
}

export const egressStage: Stage = directionStage('Egress', (f) => f.src, (f) => f.dst);
export const ingressStage: Stage = directionStage('Ingress', (f) => f.dst, (f) => f.src);

/** The NetworkPolicy tier: egress of the source, then ingress of the destination. */
export const defaultStages: readonly Stage[] = [egressStage, ingressStage];

/**
 * The verdict of a flow: allowed only if every stage allows it. A pod talking to itself never
 * leaves its namespace, so no stage applies (semantics #15).
 */
export function evaluateFlow(model: PolicyModel, flow: Flow, stages: readonly Stage[] = defaultStages): FlowVerdict {
  if (flow.src.kind === 'pod' && flow.dst.kind === 'pod' && flow.src.pod.ip === flow.dst.pod.ip) {
    return {
      allowed: true,
      stages: [{ stage: 'loopback', isolated: false, selectedBy: [], allowedBy: [], allowed: true, reason: 'a pod reaching its own address never leaves its network namespace; policies do not apply' }],
    };
  }
  const verdicts = stages.map((s) => s(model, flow));
  return { allowed: verdicts.every((v) => v.allowed), stages: verdicts };
}
