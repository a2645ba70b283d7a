/**
 * Prisma writes the absolute paths of the machine that generated the client into it
 * (generator output and schema path, used only in diagnostics). They are made relative to the
 * repository so the committed client is the same on every checkout and the drift check holds.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const dir = join(root, 'src/generated');
for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
  const file = join(entry.parentPath, entry.name);
  const text = readFileSync(file, 'utf8');
  const fixed = text.split(`"${root}/`).join('"./');
  if (fixed !== text) writeFileSync(file, fixed);
}
