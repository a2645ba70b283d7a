/** The CLI's command table: one entry per command, each in cli/commands/. */
import type { Command } from './command.ts';
import { inviteCreate } from './commands/invite-create.ts';
import { migrateCommand } from './commands/migrate.ts';
import { userAdd } from './commands/user-add.ts';

export const commands: Record<string, Command> = {
  user: userAdd,
  invite: inviteCreate,
  migrate: migrateCommand,
};
