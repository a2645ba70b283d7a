import { writeFile } from 'node:fs/promises';
import { renderReport, runImport, type BadFilePolicy } from '../../import/run.ts';
import { createLogger } from '../../shared/logger.ts';
import { createRedisEventBus } from '../../shared/redis-events.ts';
import { UsageError, type Command } from '../command.ts';

const POLICIES: BadFilePolicy[] = ['keep', 'skip', 'abort'];

export const importCommand: Command = {
  usage: 'import nexusphp|unit3d --from mysql://USER:PASSWORD@HOST:PORT/DB --torrents-dir DIR [--source-tz +08:00] [--dry-run] [--report FILE] [--on-bad-file keep|skip|abort]',
  summary: 'copy a NexusPHP or UNIT3D site (database and .torrent files) into this one; run again, it changes nothing (src/import/README.md)',
  options: {
    from: { type: 'string' },
    'torrents-dir': { type: 'string' },
    'source-tz': { type: 'string' },
    'dry-run': { type: 'boolean' },
    report: { type: 'string' },
    'on-bad-file': { type: 'string' },
    batch: { type: 'string' },
  },
  run: async ({ db, config, positionals, values, out }) => {
    const [kind] = positionals;
    if ((kind !== 'nexusphp' && kind !== 'unit3d') || positionals.length > 1) throw new UsageError('expected: import nexusphp or import unit3d');
    if (typeof values.from !== 'string') throw new UsageError('--from mysql://USER:PASSWORD@HOST:PORT/DB is required');
    if (typeof values['torrents-dir'] !== 'string') throw new UsageError(`--torrents-dir is required (the folder of the old site's .torrent files)`);
    if (kind === 'unit3d' && values['source-tz'] !== undefined) throw new UsageError('--source-tz is for NexusPHP; UNIT3D stores UTC');
    const policy = (values['on-bad-file'] ?? 'keep') as BadFilePolicy;
    if (!POLICIES.includes(policy)) throw new UsageError(`--on-bad-file must be one of ${POLICIES.join(', ')}`);
    const batch = values.batch === undefined ? undefined : Number(values.batch);
    if (batch !== undefined && !(Number.isInteger(batch) && batch >= 1 && batch <= 50_000)) throw new UsageError('--batch must be an integer between 1 and 50000');

    const report = await runImport(db, {
      kind,
      from: values.from,
      torrentsDir: values['torrents-dir'],
      ...(typeof values['source-tz'] === 'string' ? { sourceTz: values['source-tz'] } : {}),
      dryRun: values['dry-run'] === true,
      onBadFile: policy,
      ...(batch !== undefined ? { batch } : {}),
      out,
    });
    out('');
    out(renderReport(report));
    if (typeof values.report === 'string') {
      await writeFile(values.report, `${JSON.stringify(report, null, 2)}\n`);
      out(`\nreport written to ${values.report}`);
    }
    if (!report.dryRun && report.changes > 0) {
      // Running servers on the shared database reload their caches (passkeys, torrents, secrets).
      if (config.redisUrl) {
        const bus = createRedisEventBus(config.redisUrl, config.redisPrefix, createLogger('warn'));
        await bus.ready;
        bus.publish({ type: 'caches.reload' });
        bus.publish({ type: 'categories.changed' });
        await bus.close();
        out('running servers were told to reload their caches');
      } else if (db.kind === 'postgres') out('no REDIS_URL: restart running servers so they load the imported users and torrents');
    }
    const failed = report.totals.filter((t) => !t.equal).length + report.torrentFiles.verifyFailed.length;
    if (failed > 0) throw new Error(`the import finished, but ${failed} verification(s) failed: see the report above`);
  },
};
