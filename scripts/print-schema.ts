/**
 * Prints the GraphQL schema to schema.graphql, types and fields in lexicographic order so diffs
 * are stable. `npm run generate` runs it; check:generated fails when the committed file differs.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from '../src/graphql/schema.ts';

const target = fileURLToPath(new URL('../schema.graphql', import.meta.url));
writeFileSync(target, `${printSchema(lexicographicSortSchema(schema))}\n`);
