// When each step of one pod's start-up happened on this node (epoch milliseconds), from the
// moment the agent saw the pod to the acknowledgement of the status write that says Running. The
// agent logs the marks once per pod ("observed pod startup", as the kubelet logs its pod start-up
// duration), so a burst of pods can be read step by step: where did each pod wait?

/** The steps, in the order a pod passes them. */
export const STARTUP_STEPS = [
  'seen', // the agent's informer handed the pod to a worker
  'setUp', // the pod's lifecycle started its set-up
  'netns', // the network namespace exists with lo up
  'uts', // the UTS namespace holds the hostname
  'cniSlot', // a CNI slot was free
  'cni', // CNI ADD returned (veth, address, routes)
  'admitted', // NetworkPolicy state for the address is in the kernel
  'token', // ConfigMap/Secret references and the ServiceAccount token are written
  'runtimeSandbox', // the node runtime has the sandbox (RunPodSandbox)
  'containerCreate', // CreateContainer sent for the first container
  'containerStarted', // StartContainer returned (a built-in workload listens)
  'statusSent', // the status PATCH that says Running was sent
  'statusAcked', // ... and answered
] as const;

export type StartupStep = (typeof STARTUP_STEPS)[number];

export class PodStartupTrace {
  private readonly marks = new Map<StartupStep, number>();

  /** Records the first time `step` happened (later marks of the same step are ignored). */
  mark(step: StartupStep, at = Date.now()): void {
    if (!this.marks.has(step)) this.marks.set(step, at);
  }

  has(step: StartupStep): boolean {
    return this.marks.has(step);
  }

  /** The marks in step order, as epoch milliseconds (steps that did not happen are left out). */
  toJSON(): Partial<Record<StartupStep, number>> {
    const out: Partial<Record<StartupStep, number>> = {};
    for (const s of STARTUP_STEPS) {
      const at = this.marks.get(s);
      if (at !== undefined) out[s] = at;
    }
    return out;
  }
}
