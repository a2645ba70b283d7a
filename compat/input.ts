/**
 * What a legacy request carries into a route's `toVariables`: the route placeholders, the query
 * string and the parsed body (JSON object or form fields). Bad input is refused here, before
 * any GraphQL operation runs, with a LegacyInputError (REST 400 / jsonapi 40001, or not found).
 */

export interface LegacyInput {
  /** Placeholders of the matched route (`{id:\d+}` → params.id). */
  params: Record<string, string>;
  query: URLSearchParams;
  /** JSON object or form fields of a POST body; empty for GET. */
  body: Record<string, unknown>;
}

export class LegacyInputError extends Error {
  override name = 'LegacyInputError';
  constructor(
    message: string,
    readonly kind: 'BAD_USER_INPUT' | 'NOT_FOUND' = 'BAD_USER_INPUT',
  ) {
    super(message);
  }
}

/** A parameter from the body (wins, as PHP's $_REQUEST with POST after GET) or the query string. */
export function arg(input: LegacyInput, name: string): string | undefined {
  const b = input.body[name];
  if (typeof b === 'string') return b;
  if (typeof b === 'number' && Number.isFinite(b)) return String(b);
  if (typeof b === 'boolean') return b ? '1' : '0';
  return input.query.get(name) ?? undefined;
}

/** A database id from a route placeholder: anything outside 1..2^31-1 cannot exist. */
export function idParam(input: LegacyInput, name = 'id'): string {
  const v = input.params[name];
  if (v === undefined || !/^[1-9][0-9]{0,9}$/.test(v) || Number(v) > 2_147_483_647) throw new LegacyInputError(`${name} not found`, 'NOT_FOUND');
  return v;
}

/** An optional integer parameter; a present non-integer is bad input. */
export function intArg(input: LegacyInput, name: string): number | undefined {
  const v = arg(input, name);
  if (v === undefined || v === '') return undefined;
  if (!/^-?[0-9]{1,9}$/.test(v.trim())) throw new LegacyInputError(`${name} must be an integer`);
  return Number(v.trim());
}

/** jsonapi `limit=<default,max>`: missing, invalid or below 1 → default, above max → max (silently). */
export function clampLimit(input: LegacyInput, def: number, max: number): number {
  const v = arg(input, 'limit');
  if (v === undefined || !/^\s*[0-9]{1,9}\s*$/.test(v)) return def;
  const n = Number(v);
  if (n < 1) return def;
  return Math.min(n, max);
}

/** jsonapi 0-based `page`: missing → 0; negative or not an integer → bad input. */
export function zeroBasedPage(input: LegacyInput): number {
  const n = intArg(input, 'page');
  if (n === undefined) return 0;
  if (n < 0) throw new LegacyInputError('page must be 0 or more');
  return n;
}

/** An optional search text, trimmed; empty → undefined. */
export function searchArg(input: LegacyInput, max = 200): string | undefined {
  const v = arg(input, 'search')?.trim();
  if (!v) return undefined;
  if (v.length > max) throw new LegacyInputError(`search is longer than ${max} characters`);
  return v;
}

/** A required string from the body. */
export function requiredString(input: LegacyInput, name: string, max = 1024): string {
  const v = input.body[name];
  if (typeof v !== 'string' || v === '') throw new LegacyInputError(`${name} is required`);
  if (v.length > max) throw new LegacyInputError(`${name} is too long`);
  return v;
}
