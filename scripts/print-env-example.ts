/**
 * Writes .env.example from the configuration schema (src/config.ts): every variable with its
 * description and default. `npm run generate` runs it and check:generated diffs the result, so
 * the documented configuration can never drift from the code.
 */
import { writeFileSync } from 'node:fs';
import { envSchema } from '../src/config.ts';

const lines = ['# OpenTracker configuration: every variable, its meaning and its default.', '# Generated from src/config.ts by `npm run generate`; do not edit by hand.', ''];
for (const [key, schema] of Object.entries(envSchema.shape)) {
  const parsed = schema.safeParse(undefined);
  const fallback = parsed.success && parsed.data !== undefined ? String(parsed.data) : '';
  lines.push(`# ${schema.description ?? ''}`);
  lines.push(fallback === '' ? `# ${key}=` : `# ${key}=${fallback}`);
  lines.push('');
}
writeFileSync(new URL('../.env.example', import.meta.url), lines.join('\n'));
