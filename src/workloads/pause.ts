// The pause image: holds the pod's namespaces and does nothing until stopped.
import { servingWorkload, type WorkloadMain } from './workload.js';

export const runPause: WorkloadMain = async () => servingWorkload([]);
