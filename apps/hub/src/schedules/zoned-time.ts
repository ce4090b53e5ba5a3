/**
 * Wall-clock times of an IANA zone, as milliseconds on a UTC scale ("the wall clock read as if it
 * were UTC"), and the instants they stand for. Built on Intl, which carries the tz database.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** Whether the runtime knows the zone (Intl throws a RangeError for unknown names). */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** What a clock in `timeZone` shows at `instant`. */
export function wallClockAt(instant: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const millis = ((instant % 1000) + 1000) % 1000;
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) + millis;
}

const DAY_MS = 86_400_000;

/**
 * The instant a wall-clock time stands for, by the documented DST rules: a time that happens
 * twice (fall back) means its first occurrence; a time that does not exist (spring forward)
 * means the first valid instant after the gap. Non-decreasing in `wall`.
 */
export function instantOfWallClock(wall: number, timeZone: string): number {
  // Zones change offset at most once within two days, so the offsets a day either side are all
  // the candidates.
  const offsets = new Set([wallClockAt(wall - DAY_MS, timeZone) - (wall - DAY_MS), wallClockAt(wall + DAY_MS, timeZone) - (wall + DAY_MS)]);
  const valid = [...offsets].map((offset) => wall - offset).filter((instant) => wallClockAt(instant, timeZone) === wall);
  if (valid.length > 0) return Math.min(...valid);
  return endOfGap(wall, timeZone, Math.min(...offsets), Math.max(...offsets));
}

/** The transition instant a nonexistent wall time falls into: searched to the second (tz transitions are on whole seconds). */
function endOfGap(wall: number, timeZone: string, earlyOffset: number, lateOffset: number): number {
  // Before the transition the early offset holds, after it the late one.
  let before = Math.floor((wall - lateOffset) / 1000) * 1000;
  let after = Math.ceil((wall - earlyOffset) / 1000) * 1000;
  while (after - before > 1000) {
    const middle = before + Math.floor((after - before) / 2000) * 1000;
    if (wallClockAt(middle, timeZone) - middle === earlyOffset) before = middle;
    else after = middle;
  }
  return after;
}
