import { createLogger, type Logger } from '../logging/logger';
import { pollUntil } from '../runner/poll-until';

/** Waits for a condition with a deadline (never a bare sleep); throws naming what never happened. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  if (!(await pollUntil(condition, timeoutMs, 10))) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A real logger whose JSON lines are kept, so tests can check what was (and was not) logged. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}
