import { Injectable } from '@nestjs/common';

export interface Wakeup {
  /** Resolves at the next `notify` of the execution, or after the timeout, whichever is first. */
  readonly woken: Promise<void>;
  cancel(): void;
}

/**
 * In-process wake-ups for live output: the agent gateway's reports notify, the SSE streams of
 * the same execution wake up and read the database. Only a shortcut: streams also poll, so
 * output stored through another hub still arrives, a poll interval later.
 */
@Injectable()
export class OutputEvents {
  private readonly listeners = new Map<string, Set<() => void>>();

  notify(executionId: string): void {
    const listeners = this.listeners.get(executionId);
    if (listeners === undefined) return;
    this.listeners.delete(executionId);
    for (const listener of listeners) listener();
  }

  /** Subscribe before reading the database, so nothing stored in between is missed. */
  subscribe(executionId: string, timeoutMs: number): Wakeup {
    let wake: () => void = () => undefined;
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const timer = setTimeout(() => cancel(), timeoutMs);
    const listener = (): void => cancel();
    const cancel = (): void => {
      clearTimeout(timer);
      const listeners = this.listeners.get(executionId);
      listeners?.delete(listener);
      if (listeners?.size === 0) this.listeners.delete(executionId);
      wake();
    };
    let listeners = this.listeners.get(executionId);
    if (listeners === undefined) {
      listeners = new Set();
      this.listeners.set(executionId, listeners);
    }
    listeners.add(listener);
    return { woken, cancel };
  }
}
