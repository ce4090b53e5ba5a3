export interface Wakeup<T = void> {
  /** Resolves at the next `notify` of the key (with what it carried), or after the timeout (undefined). */
  readonly woken: Promise<T | undefined>;
  cancel(): void;
}

/**
 * In-process wake-ups by key: whoever changes a thing notifies its key, whoever waits for the
 * thing subscribes, then reads the database. Only a shortcut: waiters also re-read on a timeout,
 * so a change made through another hub still arrives, a timeout later. A notice may carry the
 * thing as it now is, sparing the waiters their read.
 */
export class KeyedWakeups<T = void> {
  private readonly listeners = new Map<string, Set<(value: T | undefined) => void>>();

  notify(key: string, value?: T): void {
    const listeners = this.listeners.get(key);
    if (listeners === undefined) return;
    this.listeners.delete(key);
    for (const listener of listeners) listener(value);
  }

  /** Whether anyone here waits on `key` now. */
  awaited(key: string): boolean {
    return this.listeners.has(key);
  }

  /** Subscribe before reading the database, so nothing stored in between is missed. */
  subscribe(key: string, timeoutMs: number): Wakeup<T> {
    let wake: (value: T | undefined) => void = () => undefined;
    const woken = new Promise<T | undefined>((resolve) => {
      wake = resolve;
    });
    const timer = setTimeout(() => cancel(), timeoutMs);
    const listener = (value: T | undefined): void => cancel(value);
    const cancel = (value?: T): void => {
      clearTimeout(timer);
      const listeners = this.listeners.get(key);
      listeners?.delete(listener);
      if (listeners?.size === 0) this.listeners.delete(key);
      wake(value);
    };
    let listeners = this.listeners.get(key);
    if (listeners === undefined) {
      listeners = new Set();
      this.listeners.set(key, listeners);
    }
    listeners.add(listener);
    return { woken, cancel: () => cancel() };
  }
}
