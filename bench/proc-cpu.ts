/**
 * CPU time of processes and threads from Linux /proc, for the benchmarks' "per server
 * CPU-second" figures. A process that has gone throws: a measurement that lost its server is
 * not a measurement, and a zero or NaN would end up in a results table.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (100 on every Linux build seen, but asked). */
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** User + system CPU seconds used so far by process `pid` (all its threads), or by its thread `tid` alone. */
export function cpuSeconds(pid: number, tid?: number): number {
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses: fields are counted after its last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}
