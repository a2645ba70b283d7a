/**
 * Runs `npm run cli -- ...` as an operator does: a child process (`tsx src/cli/main.ts`) with
 * the given environment, its stdout, stderr and exit code collected.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `env` is added to this process's environment minus DATABASE_URL and REDIS_URL (pass them to use them). */
export function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  const { DATABASE_URL: _d, REDIS_URL: _r, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env: { ...inherited, NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env }, timeout: 90_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}
