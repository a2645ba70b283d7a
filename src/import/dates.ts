/**
 * The old site's dates as instants. NexusPHP stores DATETIME wall-clock time in the PHP site's
 * zone (`--source-tz`: `+08:00` or an IANA name such as `Asia/Shanghai`); UNIT3D stores UTC.
 * Zero dates (`0000-00-00 00:00:00`, NexusPHP 1.5's "never") and NULL are null.
 */
import { ImportError, type SourceValue } from './source.ts';

const WALL = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?$/;

export type WallClock = (value: SourceValue) => Date | null;

/** The reader of wall-clock strings in `zone` (`+HH:MM`, `-HH:MM`, `UTC`/`Z` or an IANA zone). */
export function wallClock(zone: string): WallClock {
  const fixed = /^(?:UTC|Z|([+-])(\d{2}):?(\d{2}))$/i.exec(zone);
  let offsetAt: (utcGuess: number) => number;
  if (fixed) {
    const minutes = fixed[1] ? (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3])) : 0;
    if (Math.abs(minutes) > 14 * 60) throw new ImportError(`--source-tz ${zone}: an offset must be within ±14:00`);
    offsetAt = () => minutes * 60_000;
  } else {
    let format: Intl.DateTimeFormat;
    try {
      format = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    } catch {
      throw new ImportError(`--source-tz ${zone}: not an offset (+08:00) nor a time zone name (Asia/Shanghai)`);
    }
    // Offsets by hour: a site's millions of dates fall in a few thousand distinct hours.
    const cache = new Map<number, number>();
    const offsetOf = (t: number): number => {
      const hour = Math.floor(t / 3_600_000);
      let o = cache.get(hour);
      if (o === undefined) {
        const p = Object.fromEntries(format.formatToParts(new Date(hour * 3_600_000)).map((x) => [x.type, x.value]));
        o = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second)) - hour * 3_600_000;
        cache.set(hour, o);
      }
      return o;
    };
    // The wall time read as UTC, moved by the zone's offset then, and again if that crossed a change.
    offsetAt = (guess) => {
      const first = offsetOf(guess - offsetOf(guess));
      return offsetOf(guess - first);
    };
  }
  return (value) => {
    if (value === null || value === undefined) return null;
    const m = WALL.exec(String(value));
    if (!m || m[1] === '0000' || m[2] === '00' || m[3] === '00') return null;
    const guess = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3)));
    return new Date(guess - offsetAt(guess));
  };
}
