import type { ParseArgsConfig } from 'node:util';
import type { Config } from '../config.ts';
import type { Database } from '../db/open-database.ts';

export interface CommandContext {
  db: Database;
  config: Config;
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
  out: (line: string) => void;
}

export interface Command {
  usage: string;
  summary: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run: (ctx: CommandContext) => Promise<void>;
}

export class UsageError extends Error {
  override name = 'UsageError';
}
