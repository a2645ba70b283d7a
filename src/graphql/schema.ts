/**
 * The GraphQL schema: loads every types/*.ts registration and builds it. Exports nothing else
 * (scripts/print-schema.ts prints it; yoga.ts serves it).
 */
import { builder } from './builder.ts';
import './types/scalars.ts';
import './types/user.ts';
import './types/setup.ts';
import './types/category.ts';
import './types/torrent.ts';
import './types/upload.ts';
import './types/community.ts';
import './types/moderation.ts';
import './types/rules.ts';
import './types/live.ts';
import './types/live-stats.ts';

export const schema = builder.toSchema();
