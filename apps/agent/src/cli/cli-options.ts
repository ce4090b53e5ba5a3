import { InvalidArgumentError } from 'commander';

export function parsePositiveInteger(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < 1) {
    throw new InvalidArgumentError('must be a whole number of at least 1');
  }
  return number;
}

/** Seconds as a decimal (`0.5` is allowed, so tests can keep timers short). */
export function parseSeconds(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0) {
    throw new InvalidArgumentError('must be a number of seconds, 0 or more');
  }
  return number;
}
