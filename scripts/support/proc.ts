/**
 * The machine's processes as Linux's `/proc` lists them, for the samplers `npm run simulate` runs
 * beside its answers (`kernel-bursts.ts`, `cpu-waits.ts`). Linux only: where `/proc` cannot be
 * read, the walk says so with undefined.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** A process (or kernel thread): pid, name (`comm`) and parent pid. */
export interface ProcessInfo {
  readonly pid: number;
  readonly name: string;
  readonly ppid: number;
}

/** `/proc/<pid>/stat` → name and parent pid; undefined when malformed. `comm` may hold spaces and parentheses. */
export function parseStat(text: string): { name: string; ppid: number } | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const ppid = Number(text.slice(close + 2).split(' ')[1]);
  return Number.isInteger(ppid) ? { name: text.slice(open + 1, close), ppid } : undefined;
}

/** The entries of a `/proc` directory that are numbers (pids, tids), or undefined when it cannot be read. */
export function numberedEntries(dir: string): string[] | undefined {
  try {
    return readdirSync(dir).filter((entry) => /^\d+$/.test(entry));
  } catch {
    return undefined;
  }
}

/** Every process now, kernel threads included; a process that ends meanwhile is left out. */
export function readProcesses(): ProcessInfo[] | undefined {
  const pids = numberedEntries('/proc');
  if (pids === undefined) return undefined;
  const processes: ProcessInfo[] = [];
  for (const entry of pids) {
    try {
      const stat = parseStat(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (stat !== undefined) processes.push({ pid: Number(entry), ...stat });
    } catch {
      // gone meanwhile
    }
  }
  return processes;
}

/** Whether a process is one of the kernel's own threads: `kthreadd` (pid 2) or one of its children. */
export const isKernelThread = (process: ProcessInfo): boolean => process.pid === 2 || process.ppid === 2;
