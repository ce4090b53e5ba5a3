import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * JSON lines to stderr: stdout belongs to command output (`status`). Writes are synchronous so
 * the last lines before an exit are not lost. The redaction is a safety net: the code never puts
 * the credential, env values or the handshake auth object into a log call in the first place.
 */
export function createLogger(
  level: LogLevel,
  destination: DestinationStream = pino.destination({ dest: 2, sync: true }),
): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: {
        paths: ['credential', '*.credential', 'auth', '*.auth', 'env', '*.env'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
