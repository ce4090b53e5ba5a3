export interface Wakeup {
  /** Resolves at the next `notify` of the key, or after the timeout, whichever is first. */
  readonly woken: Promise<void>;
  cancel(): void;
}

/**
 * In-process wake-ups by key: whoever changes a thing notifies its key, whoever waits for the
 * thing subscribes, then reads the database. Only a shortcut: waiters also re-read on a timeout,
 * so a change made through another hub still arrives, a timeout later.
 */
export class KeyedWakeups {
  private readonly listeners = new Map<string, Set<() => void>>();

  notify(key: string): void {
    const listeners = this.listeners.get(key);
    if (listeners === undefined) return;
    this.listeners.delete(key);
    for (const listener of listeners) listener();
  }

  /** Subscribe before reading the database, so nothing stored in between is missed. */
  subscribe(key: string, timeoutMs: number): Wakeup {
    let wake: () => void = () => undefined;
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const timer = setTimeout(() => cancel(), timeoutMs);
    const listener = (): void => cancel();
    const cancel = (): void => {
      clearTimeout(timer);
      const listeners = this.listeners.get(key);
      listeners?.delete(listener);
      if (listeners?.size === 0) this.listeners.delete(key);
      wake();
    };
    let listeners = this.listeners.get(key);
    if (listeners === undefined) {
      listeners = new Set();
      this.listeners.set(key, listeners);
    }
    listeners.add(listener);
    return { woken, cancel };
  }
}
