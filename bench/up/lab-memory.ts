// Prints the memory (RSS / PSS / USS) of every process of a running lab.
// Run: node --import tsx bench/up/lab-memory.ts [DATA_DIR]   (root; default /var/lib/flatnet)
import { findLabProcesses, cmdline } from '../../src/lab/processes.js';
import { formatMemory, labRole, memoryOf, type ProcessMemory } from './memory.js';

const dataDir = process.argv[2] ?? '/var/lib/flatnet';
const list = findLabProcesses(dataDir)
  .map((pid) => memoryOf(pid, labRole(cmdline(pid))))
  .filter((m): m is ProcessMemory => m !== undefined);
if (list.length === 0) throw new Error(`no process of a lab with data directory ${dataDir} runs`);
for (const line of formatMemory(list)) console.log(line);
