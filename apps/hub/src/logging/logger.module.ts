import type { IncomingMessage } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import type { HubConfig } from '../config/hub-config';

/**
 * Structured logs: JSON lines in production, readable when a person watches a terminal.
 * Credentials never reach them: auth headers, cookies and bodies are not logged.
 */
export function hubLoggerModule(config: HubConfig) {
  return LoggerModule.forRoot({
    pinoHttp: {
      level: config.logLevel,
      ...(config.logFormat === 'pretty'
        ? { transport: { target: 'pino-pretty', options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
        : {}),
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'], censor: '[redacted]' },
      // assignRequestId ran first, for every request.
      genReqId: (req: IncomingMessage) => req.id ?? '',
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'debug'),
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
  });
}
