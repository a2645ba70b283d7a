/**
 * Fails when a committed generated file (Prisma client, Pothos types, schema.graphql, codegen
 * output) differs from what `npm run generate` produces now. Regenerates in place, then asks
 * git whether anything tracked changed or appeared.
 */
import { execFileSync } from 'node:child_process';

const GENERATED = ['src/generated', 'schema.graphql', 'compat/generated', 'test/generated', '.env.example'];

execFileSync('npm', ['run', '--silent', 'generate'], { stdio: ['ignore', 'ignore', 'inherit'] });
let status = '';
try {
  status = execFileSync('git', ['status', '--porcelain', '--', ...GENERATED], { encoding: 'utf8' });
} catch {
  process.stdout.write('check:generated: not a git checkout, nothing to compare\n');
  process.exit(0);
}
if (status.trim() !== '') {
  process.stderr.write(`generated files are stale or uncommitted (run npm run generate and commit):\n${status}`);
  process.exit(1);
}
process.stdout.write('check:generated: committed generated files are up to date\n');
