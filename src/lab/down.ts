// `flatnet down`: stops the lab's processes by PID, deletes every lab namespace (which takes
// their links, routes and nftables tables with them) and the files `up` made in the data
// directory. Works on a lab left by a crash too: without PID files the lab's processes are
// found through /proc, and namespaces by their `flatnet-` names.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { removeLabNamespaces } from './network.js';
import { removeLabFrrDir } from './frr-router.js';
import { removeOrphanUtsNamespaces } from '../agent/sandbox.js';
import type { LabState } from './plan.js';
import { belongsToLab, findLabProcesses, isAlive, otherLabDataDirs, readPidFiles, stopPid } from './processes.js';
import { readLabState } from './supervisor.js';

export interface DownReport {
  stopped: string[];
  namespaces: string[];
  removedFiles: string[];
}

export async function labDown(dataDirArg: string, print: (line: string) => void): Promise<DownReport> {
  const dataDir = resolve(dataDirArg);
  const statePath = join(dataDir, 'lab.json');
  let state: LabState | undefined;
  try {
    state = existsSync(statePath) ? readLabState(statePath) : undefined;
  } catch {
    state = undefined;
  }
  const report: DownReport = { stopped: [], namespaces: [], removedFiles: [] };

  // 1. The supervisor first (so nothing restarts), then what the PID files name, then strays.
  const pids = readPidFiles(join(dataDir, 'pids'));
  const ordered = [...pids].sort(([a], [b]) => (a === 'supervisor' ? -1 : b === 'supervisor' ? 1 : a === 'server' ? 1 : b === 'server' ? -1 : 0));
  for (const [name, pid] of ordered) {
    if (!isAlive(pid) || !belongsToLab(pid, dataDir)) continue;
    const how = await stopPid(pid);
    report.stopped.push(`${name} (pid ${pid}, ${how})`);
  }
  for (const pid of findLabProcesses(dataDir)) {
    const how = await stopPid(pid);
    report.stopped.push(`pid ${pid} (${how})`);
  }

  // 2. Namespaces (processes still inside them, e.g. pod containers, are stopped by PID) —
  //    unless another lab, started with another data directory, is running and owns them.
  const others = otherLabDataDirs(dataDir);
  if (others.length > 0) {
    print(`a lab with data directory ${others.join(', ')} is running; its namespaces are left alone (\`flatnet down --data-dir ${others[0]}\` removes it)`);
  } else {
    const ns = await removeLabNamespaces(async (pid) => {
      await stopPid(pid, 2000);
    });
    report.namespaces = ns.namespaces;
    if (ns.killed.length) report.stopped.push(`${ns.killed.length} process(es) inside lab namespaces`);
    const uts = await removeOrphanUtsNamespaces();
    if (uts.length) report.namespaces.push(`${uts.length} pod UTS namespace(s)`);
    removeLabFrrDir(); // `--router frr`: its daemons' files outside the data directory
  }

  // 3. Files: what `up` added to the data directory (or the directory itself if `up` made it).
  if (existsSync(dataDir)) {
    if (state?.createdDataDir) {
      rmSync(dataDir, { recursive: true, force: true });
      report.removedFiles.push(dataDir);
    } else {
      const keep = new Set(state?.preexisting ?? []);
      const ours = state ? readdirSync(dataDir).filter((e) => !keep.has(e)) : ['lab.json', 'pids', 'logs', 'nodes', 'node-join.json', 'etcd', 'servers'].filter((e) => existsSync(join(dataDir, e)));
      for (const e of ours) {
        rmSync(join(dataDir, e), { recursive: true, force: true });
        report.removedFiles.push(join(dataDir, e));
      }
    }
  }
  print(report.stopped.length ? `stopped: ${report.stopped.join(', ')}` : 'no lab processes were running');
  print(report.namespaces.length ? `deleted namespaces: ${report.namespaces.join(', ')}` : 'no lab namespaces were present');
  print(report.removedFiles.length ? `removed: ${report.removedFiles.join(', ')}` : `nothing to remove in ${dataDir}`);
  return report;
}
