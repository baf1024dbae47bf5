// The runtime's record of its sandboxes and containers (<dir>/state.json, 0600 in a 0700
// directory): written after each change (to a temporary file, then renamed), read at start.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ContainerConfig, ContainerStatusReply, PodSandboxConfig } from './api.js';
import type { ProcessRef } from './process-identity.js';

export interface SavedContainer {
  config: ContainerConfig;
  status: ContainerStatusReply;
  processRef?: ProcessRef;
}

export interface SavedState {
  version: 1;
  sandboxes: { config: PodSandboxConfig; state: 'READY' | 'NOTREADY' }[];
  containers: SavedContainer[];
}

export class RuntimeStateFile {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    chmodSync(dirname(path), 0o700);
  }

  load(): SavedState {
    if (!existsSync(this.path)) return { version: 1, sandboxes: [], containers: [] };
    const raw = JSON.parse(readFileSync(this.path, 'utf8')) as Partial<SavedState>;
    if (raw.version !== 1) throw new Error(`${this.path}: unknown state file version ${String(raw.version)}`);
    return { version: 1, sandboxes: raw.sandboxes ?? [], containers: raw.containers ?? [] };
  }

  save(state: Omit<SavedState, 'version'>): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, ...state }), { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}
