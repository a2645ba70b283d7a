/**
 * A FastRoute-style route matcher (nikic/FastRoute's route syntax, which the jsonapi seed uses
 * for its actions): `{name}` matches one segment (`[^/]+`), `{name:regex}` a custom pattern,
 * and `[...]` an optional trailing part that may nest (`site/fun/view[/{id:\d+}]`). Patterns
 * are compiled once into anchored regular expressions; placeholders become named groups.
 */

export interface CompiledRoute {
  pattern: string;
  regex: RegExp;
  params: string[];
}

export interface RouteMatch<T> {
  route: T;
  params: Record<string, string>;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function escapeLiteral(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Compiles a FastRoute pattern; throws on malformed patterns (a programming error). */
export function compileRoute(pattern: string): CompiledRoute {
  const params: string[] = [];
  let out = '';
  let optionalDepth = 0;
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i] as string;
    if (c === '{') {
      // A placeholder; its regex may itself contain braces ({2,3}), so count them.
      let depth = 1;
      let j = i + 1;
      while (j < pattern.length && depth > 0) {
        if (pattern[j] === '{') depth += 1;
        else if (pattern[j] === '}') depth -= 1;
        j += 1;
      }
      if (depth !== 0) throw new Error(`unclosed placeholder in route ${pattern}`);
      const body = pattern.slice(i + 1, j - 1);
      const colon = body.indexOf(':');
      const name = (colon < 0 ? body : body.slice(0, colon)).trim();
      const regex = colon < 0 ? '[^/]+' : body.slice(colon + 1).trim();
      if (!NAME.test(name)) throw new Error(`bad placeholder name "${name}" in route ${pattern}`);
      if (params.includes(name)) throw new Error(`placeholder "${name}" used twice in route ${pattern}`);
      if (/\((?!\?)/.test(regex)) throw new Error(`capturing group in placeholder "${name}" of route ${pattern}`);
      params.push(name);
      out += `(?<${name}>${regex})`;
      i = j;
    } else if (c === '[') {
      optionalDepth += 1;
      out += '(?:';
      i += 1;
    } else if (c === ']') {
      if (optionalDepth === 0) throw new Error(`unbalanced ] in route ${pattern}`);
      optionalDepth -= 1;
      out += ')?';
      i += 1;
      // FastRoute: optional parts may only occur at the end of a route.
      if (i < pattern.length && pattern[i] !== ']') throw new Error(`optional part in the middle of route ${pattern}`);
    } else {
      out += escapeLiteral(c);
      i += 1;
    }
  }
  if (optionalDepth !== 0) throw new Error(`unclosed [ in route ${pattern}`);
  return { pattern, regex: new RegExp(`^${out}$`), params };
}

/** A matcher over routes with a `pattern`: the first route whose pattern matches wins. */
export function createMatcher<T extends { pattern: string }>(routes: readonly T[]): (path: string) => RouteMatch<T> | null {
  const compiled = routes.map((route) => ({ route, compiled: compileRoute(route.pattern) }));
  return (path) => {
    for (const { route, compiled: c } of compiled) {
      const m = c.regex.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      for (const name of c.params) {
        const v = m.groups?.[name];
        if (v !== undefined) params[name] = v;
      }
      return { route, params };
    }
    return null;
  };
}
