import { setTimeout as delay } from 'node:timers/promises';

/** Checks `condition` every `intervalMs` until it holds (true) or `timeoutMs` has passed (false). */
export async function pollUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await delay(Math.min(intervalMs, left));
  }
}
