import type { Role } from '../../generated/prisma/enums.ts';
import { createUser } from '../../users/accounts.ts';
import { UsageError, type Command } from '../command.ts';

const ROLES = ['user', 'uploader', 'moderator', 'admin'];

export const userAdd: Command = {
  usage: 'user add <name> --password <pw> [--role user|uploader|moderator|admin]',
  summary: 'create an account and print its passkey',
  options: { password: { type: 'string' }, role: { type: 'string' }, email: { type: 'string' } },
  run: async ({ db, positionals, values, out }) => {
    const [sub, username] = positionals;
    if (sub !== 'add' || !username) throw new UsageError('unknown subcommand');
    const password = values.password;
    if (typeof password !== 'string') throw new UsageError('--password is required');
    const role = typeof values.role === 'string' ? values.role.toLowerCase() : 'user';
    if (!ROLES.includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
    const user = await createUser(db.prisma, { username, password, role: role.toUpperCase() as Role, email: typeof values.email === 'string' ? values.email : null });
    out(`created user ${user.username} (id ${user.id}, role ${user.role.toLowerCase()}), passkey ${user.passkey}`);
  },
};
