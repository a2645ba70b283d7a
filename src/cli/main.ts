/**
 * `npm run cli -- <command>`: administration from the shell, against the configured database
 * (the same DATA_DIR / DATABASE_URL as the server), whether or not the server runs: while an
 * embedded server holds the data directory, the command runs on its database through its
 * socket (cli/database.ts). Each command lives in its own file under cli/commands/.
 */
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../boot.ts';
import { createLogger } from '../shared/logger.ts';
import { UsageError } from './command.ts';
import { commands } from './commands.ts';
import { openCliDatabase } from './database.ts';

const [name, ...rest] = process.argv.slice(2);
const command = name ? commands[name] : undefined;
if (!command) {
  process.stdout.write(`usage: npm run cli -- <command> [options]\n\ncommands:\n${Object.entries(commands)
    .map(([, c]) => `  ${c.usage.padEnd(58)} ${c.summary}`)
    .join('\n')}\n`);
  process.exit(name ? 2 : 0);
}
let parsed;
try {
  parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
} catch (err) {
  process.stderr.write(`${(err as Error).message}\nusage: npm run cli -- ${command.usage}\n`);
  process.exit(2);
}
const config = loadConfigOrExit();
const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
let db;
try {
  db = await openCliDatabase(config, logger);
} catch (err) {
  process.stderr.write(`error: ${(err as Error).message}\n`);
  process.exit(3);
}
let code = 0;
try {
  await command.run({ db, config, positionals: parsed.positionals, values: parsed.values as Record<string, string | boolean | undefined>, out: (line) => process.stdout.write(`${line}\n`) });
} catch (err) {
  process.stderr.write(`error: ${(err as Error).message}\n`);
  if (err instanceof UsageError) process.stderr.write(`usage: npm run cli -- ${command.usage}\n`);
  code = err instanceof UsageError ? 2 : 1;
} finally {
  await db.close();
}
process.exit(code);
