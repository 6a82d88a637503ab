/** Time source; tests substitute a controllable one instead of faking timers globally. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
