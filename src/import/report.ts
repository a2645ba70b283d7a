/**
 * The verification report of an import: per table what the source had and what became of
 * each row, exact totals on both sides, the torrents whose .torrent file could not be kept,
 * passkeys regenerated, and what this site cannot keep. Printed at the end of a run and
 * written as JSON with `--report FILE` (and into import_runs).
 */

export interface TableReport {
  table: string;
  source: number;
  inserted: number;
  updated: number;
  unchanged: number;
  /** reason -> rows */
  skipped: Record<string, number>;
}

export interface Problem {
  id: number;
  reason: string;
}

export interface ImportReport {
  kind: string;
  source: string;
  target: string;
  dryRun: boolean;
  startedAt: string;
  seconds: number;
  /** Rows inserted or updated in all tables: 0 when a run found nothing new. */
  changes: number;
  tables: TableReport[];
  totals: Array<{ what: string; source: string; imported: string; equal: boolean }>;
  torrentFiles: {
    kept: number;
    /** Imported without their .torrent file: they announce, their download answers 404. */
    notKept: Problem[];
    /** sha1(stored info) compared with the stored info hash after the import. */
    verified: number;
    verifyFailed: Problem[];
  };
  passkeys: { kept: number; lowerCased: number; regenerated: Array<{ id: number; username: string; reason: string }> };
  emailsDropped: Array<{ id: number; reason: string }>;
  lost: string[];
  notes: string[];
}

export function tableReport(table: string): TableReport {
  return { table, source: 0, inserted: 0, updated: 0, unchanged: 0, skipped: {} };
}

export function skip(t: TableReport, reason: string, n = 1): void {
  t.skipped[reason] = (t.skipped[reason] ?? 0) + n;
}

export function skippedCount(t: TableReport): number {
  return Object.values(t.skipped).reduce((a, b) => a + b, 0);
}

const num = (n: number) => n.toLocaleString('en-US');

export function tableLine(t: TableReport): string {
  const skipped = skippedCount(t);
  return `${t.table.padEnd(18)} ${num(t.source).padStart(10)} in source: ${num(t.inserted)} new, ${num(t.updated)} updated, ${num(t.unchanged)} unchanged${skipped ? `, ${num(skipped)} skipped` : ''}`;
}

const LIST_MAX = 20;

function listed<T>(items: T[], line: (x: T) => string): string[] {
  const out = items.slice(0, LIST_MAX).map((x) => `    ${line(x)}`);
  if (items.length > LIST_MAX) out.push(`    ... and ${items.length - LIST_MAX} more (see --report)`);
  return out;
}

export function renderReport(r: ImportReport): string {
  const out: string[] = [];
  out.push(`${r.dryRun ? 'Dry run (nothing was written): ' : ''}${r.kind} ${r.source} -> ${r.target} in ${r.seconds.toFixed(1)} s: ${num(r.changes)} rows ${r.dryRun ? 'would change' : 'changed'}`);
  out.push('', 'Tables:');
  for (const t of r.tables) {
    out.push(`  ${tableLine(t)}`);
    for (const [reason, n] of Object.entries(t.skipped)) out.push(`      skipped ${num(n)}: ${reason}`);
  }
  out.push('', 'Totals (exact):');
  for (const s of r.totals) out.push(`  ${s.equal ? 'ok      ' : 'MISMATCH'} ${s.what}: source ${s.source}, imported ${s.imported}`);
  out.push('', `Torrent files: ${num(r.torrentFiles.kept)} kept byte for byte; sha1(info) = info hash for ${num(r.torrentFiles.verified)} of them${r.torrentFiles.verifyFailed.length ? `, NOT for ${r.torrentFiles.verifyFailed.length}` : ''}`);
  out.push(...listed(r.torrentFiles.verifyFailed, (p) => `torrent ${p.id}: ${p.reason}`));
  if (r.torrentFiles.notKept.length) {
    out.push(`  ${num(r.torrentFiles.notKept.length)} torrents imported without their .torrent file (they announce; their download answers 404):`);
    out.push(...listed(r.torrentFiles.notKept, (p) => `torrent ${p.id}: ${p.reason}`));
  }
  out.push('', `Passkeys: ${num(r.passkeys.kept)} kept (${num(r.passkeys.lowerCased)} lower-cased), ${num(r.passkeys.regenerated.length)} regenerated`);
  out.push(...listed(r.passkeys.regenerated, (p) => `user ${p.id} ${p.username}: ${p.reason}`));
  if (r.emailsDropped.length) {
    out.push(`E-mail addresses left empty: ${r.emailsDropped.length}`);
    out.push(...listed(r.emailsDropped, (p) => `user ${p.id}: ${p.reason}`));
  }
  if (r.lost.length) {
    out.push('', 'Not carried over:');
    for (const l of r.lost) out.push(`  - ${l}`);
  }
  if (r.notes.length) {
    out.push('', 'Notes:');
    for (const l of r.notes) out.push(`  - ${l}`);
  }
  return out.join('\n');
}
