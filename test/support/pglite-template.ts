/**
 * vitest globalSetup of the `embedded` project: one migrated in-memory PGlite, dumped to a
 * file once per run, from which every test database is restored (openTestDatabase). Creating
 * a PGlite cluster runs initdb in WebAssembly, 3-4 s on this machine, and the suites open a
 * few hundred; restoring the dump takes about 0.7 s. Made anew on every run, so it always
 * holds exactly the committed migrations.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { migrate } from '../../src/db/migrate.ts';
import { openDatabase } from '../../src/db/open-database.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A dump of a freshly migrated PGlite (Database.dump), for DatabaseConfig `from`. */
    pgliteTemplate: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), 'ot-pglite-template-'));
  const db = await openDatabase({ kind: 'pglite', dataDir: null });
  try {
    await migrate(db);
    const dump = await db.dump?.();
    if (!dump) throw new Error('PGlite gave no dump');
    writeFileSync(join(dir, 'migrated.tar'), dump);
  } finally {
    await db.close();
  }
  project.provide('pgliteTemplate', join(dir, 'migrated.tar'));
  return () => rmSync(dir, { recursive: true, force: true });
}
