/** The CLI's command table: one entry per command, each in cli/commands/. */
import type { Command } from './command.ts';
import { benchFixture } from './commands/bench-fixture.ts';
import { importCommand } from './commands/import.ts';
import { inviteCreate } from './commands/invite-create.ts';
import { migrateCommand } from './commands/migrate.ts';
import { seedDemo } from './commands/seed-demo.ts';
import { setupLinkCommand } from './commands/setup-link.ts';
import { torrentAdd } from './commands/torrent-add.ts';
import { userAdd } from './commands/user-add.ts';

export const commands: Record<string, Command> = {
  user: userAdd,
  invite: inviteCreate,
  migrate: migrateCommand,
  torrent: torrentAdd,
  'seed-demo': seedDemo,
  'setup-link': setupLinkCommand,
  'bench-fixture': benchFixture,
  import: importCommand,
};
