/** The time, injected so next-time computation and the scheduler can be tested on a fixed clock. */
export interface Clock {
  now(): number;
}

export const CLOCK = Symbol('CLOCK');

export const systemClock: Clock = { now: () => Date.now() };
