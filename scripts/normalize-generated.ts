/**
 * Prisma writes the absolute paths of the machine that generated the client into it
 * (generator output and schema path, used only in diagnostics), and the order of the
 * generator's `config` keys varies between runs and environments. Paths are made relative to
 * the repository and those keys sorted, so the committed client is the same on every checkout
 * and the drift check holds.
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
  const fixed = sortGeneratorConfig(text.split(`"${root}/`).join('"./'));
  if (fixed !== text) writeFileSync(file, fixed);
}

/** Sorts the lines of the generator's flat `"config": { ... }` object. */
function sortGeneratorConfig(text: string): string {
  return text.replace(/("config": \{\n)((?:\s+"[^"\n]+": [^\n{}]+\n)+)(\s+\})/, (_all, open: string, body: string, close: string) => {
    const entries = body
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => l.replace(/,$/, ''));
    entries.sort();
    return `${open}${entries.map((l, i) => (i < entries.length - 1 ? `${l},` : l)).join('\n')}\n${close}`;
  });
}
