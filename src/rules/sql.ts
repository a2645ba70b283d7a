/**
 * SQL helpers of the rules. Time comes from the injected clock, never SQL `now()`: every
 * statement takes the current time as its first parameter, in Unix seconds, and columns are
 * `timestamp(3)` holding UTC (Prisma's convention), hence `AT TIME ZONE 'UTC'`.
 */

/** The statement's `$1` (Unix seconds) as a UTC timestamp. */
export const NOW = `(to_timestamp($1::float8) AT TIME ZONE 'UTC')`;

/** Unix seconds of a clock reading in ms, for `$1`. */
export function seconds(nowMs: number): number {
  return nowMs / 1000;
}

/** A timestamp column read back as Unix ms (raw queries would parse it in the local zone). */
export function epochMs(column: string): string {
  return `(EXTRACT(EPOCH FROM ${column}) * 1000)::float8`;
}
