/**
 * Self time per function from a V8 `.cpuprofile` (written by `node --cpu-prof`), for
 * bench/RESULTS.md "where the time goes". Samples are attributed to the function on top of
 * the stack; percentages are of all non-idle samples, and also grouped by source area
 * (our src/ files, node:http internals, GC, native, dependencies).
 *
 *   npx tsx bench/cpu-profile.ts <file.cpuprofile> [--top 25] [--root /work/main]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTimeRow {
  name: string;
  where: string;
  area: string;
  ms: number;
  pct: number;
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  idleMs: number;
  rows: SelfTimeRow[];
  areas: Array<{ area: string; ms: number; pct: number }>;
  /** Our functions (src/) by time including callees. */
  inclusive: Array<{ name: string; where: string; ms: number; pct: number }>;
  /**
   * Stretches of consecutive samples inside the embedded database (PGlite WebAssembly or its
   * JS glue on the stack): the event loop serves no request meanwhile. Longest first, ms.
   */
  dbStalls: number[];
}

function areaOf(url: string, name: string, root: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)') return 'V8/native (program)';
  if (url === '') return 'native / builtins';
  if (url.startsWith('wasm://')) return 'database: PGlite (WebAssembly)';
  const u = url.replace(/^file:\/\//, '');
  if (/\/node_modules\/(@electric-sql\/pglite|@prisma\/|pglite-prisma-adapter|prisma\/)/.test(u)) return 'database: Prisma + PGlite (JS)';
  if (u.includes('/node_modules/')) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
    return `dependency: ${m ? m[1] : 'node_modules'}`;
  }
  if (u.startsWith('node:')) {
    if (/node:(_http|http|net|stream|internal\/streams|internal\/http|internal\/stream_base|events|internal\/timers|timers|internal\/async_hooks|internal\/process\/task_queues)/.test(u)) return 'node: http/net/streams/events';
    return 'node: other';
  }
  if (u.startsWith(`${root}/src/`) || u.includes('/src/')) return `ours: ${u.slice(u.indexOf('/src/') + 1).split('/').slice(0, 2).join('/')}`;
  return 'other';
}

/** Sample window in the profile's clock (microseconds of CLOCK_MONOTONIC, like process.hrtime). */
export interface ProfileWindow {
  fromUs: number;
  toUs: number;
}

export function summarizeProfile(profile: CpuProfile, root: string, top = 25, window?: ProfileWindow): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    const id = profile.samples[i] as number;
    // the delta that follows a sample is the time spent in it
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (dt > 0 ? dt : 0));
  }
  // inclusive time of our own functions (src/): a sample counts once for every distinct
  // src/ function on its stack
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)?.callFrame;
      if (!f || !f.url.includes('/src/') || f.url.includes('/node_modules/')) continue;
      const key = `${f.functionName || '(anonymous)'}@${f.url.slice(f.url.indexOf('/src/') + 1)}${f.lineNumber > 0 ? `:${f.lineNumber + 1}` : ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const agg = new Map<string, { name: string; where: string; area: string; us: number }>();
  let idleUs = 0;
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    totalUs += us;
    const f = n.callFrame;
    if (f.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const file = f.url.replace(/^file:\/\//, '').replace(`${root}/`, '');
    const short = file.includes('/node_modules/') ? file.slice(file.lastIndexOf('/node_modules/') + 14) : file;
    // tsx-compiled modules report line 1 for everything: then the file alone
    const where = f.url ? (f.lineNumber > 0 ? `${short}:${f.lineNumber + 1}` : short) : '';
    const name = f.functionName || '(anonymous)';
    const key = `${name}@${where}`;
    const row = agg.get(key) ?? { name, where, area: areaOf(f.url, name, root), us: 0 };
    row.us += us;
    agg.set(key, row);
  }
  // database stalls: consecutive in-window samples whose stack holds a PGlite frame
  const inDb = new Map<number, boolean>();
  const dbOnStack = (id: number): boolean => {
    const known = inDb.get(id);
    if (known !== undefined) return known;
    const f = byId.get(id)?.callFrame;
    const p = parent.get(id);
    const v = f !== undefined && (f.url.startsWith('wasm://') || f.url.includes('/@electric-sql/pglite/')) ? true : p !== undefined ? dbOnStack(p) : false;
    inDb.set(id, v);
    return v;
  };
  const dbStalls: number[] = [];
  let streak = 0;
  t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (dbOnStack(profile.samples[i] as number)) streak += dt > 0 ? dt : 0;
    else if (streak > 0) {
      dbStalls.push(streak / 1000);
      streak = 0;
    }
  }
  if (streak > 0) dbStalls.push(streak / 1000);
  dbStalls.sort((a, b) => b - a);
  const busyUs = totalUs - idleUs;
  const rows = [...agg.values()].sort((a, b) => b.us - a.us);
  const areas = new Map<string, number>();
  for (const r of rows) areas.set(r.area, (areas.get(r.area) ?? 0) + r.us);
  const pct = (us: number) => (busyUs > 0 ? (100 * us) / busyUs : 0);
  return {
    totalMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    rows: rows.slice(0, top).map((r) => ({ name: r.name, where: r.where, area: r.area, ms: r.us / 1000, pct: pct(r.us) })),
    areas: [...areas.entries()].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, ms: us / 1000, pct: pct(us) })),
    inclusive: [...inclusive.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([key, us]) => {
        const at = key.indexOf('@');
        return { name: key.slice(0, at), where: key.slice(at + 1), ms: us / 1000, pct: pct(us) };
      }),
    dbStalls,
  };
}

export function profileMarkdown(s: ProfileSummary): string {
  const lines: string[] = [];
  lines.push(`Profile: ${(s.totalMs / 1000).toFixed(1)} s sampled, ${(s.busyMs / 1000).toFixed(1)} s busy (percentages below are of busy time).`, '');
  lines.push('| area | self ms | % busy |', '|---|---:|---:|');
  for (const a of s.areas) lines.push(`| ${a.area} | ${a.ms.toFixed(0)} | ${a.pct.toFixed(1)} |`);
  const stalls = s.dbStalls;
  const over = (ms: number) => stalls.filter((x) => x >= ms).length;
  lines.push(
    '',
    stalls.length === 0
      ? 'Event loop inside the embedded database (PGlite on the stack): never sampled.'
      : `Event loop inside the embedded database (PGlite on the stack, consecutive samples): ${stalls.length} stretches, ${over(5)} of >= 5 ms, ${over(50)} of >= 50 ms; longest ${stalls
          .slice(0, 5)
          .map((x) => x.toFixed(0))
          .join(', ')} ms. No request is served during such a stretch.`,
  );
  lines.push('', 'Top functions by self time:', '', '| function | where | self ms | % busy |', '|---|---|---:|---:|');
  for (const r of s.rows) lines.push(`| \`${r.name}\` | ${r.where ? `\`${r.where}\`` : r.area} | ${r.ms.toFixed(0)} | ${r.pct.toFixed(1)} |`);
  lines.push('', 'Our functions (src/) by inclusive time (self + callees):', '', '| function | where | inclusive ms | % busy |', '|---|---|---:|---:|');
  for (const r of s.inclusive) lines.push(`| \`${r.name}\` | \`${r.where}\` | ${r.ms.toFixed(0)} | ${r.pct.toFixed(1)} |`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, root: { type: 'string', default: process.cwd() } } });
  for (const file of positionals) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    process.stdout.write(`${file}\n\n${profileMarkdown(summarizeProfile(profile, values.root, Number(values.top)))}\n\n`);
  }
}
