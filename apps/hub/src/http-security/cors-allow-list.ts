import cors from 'cors';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from '../common/errors/app-error';

/**
 * CORS for the origins in HUB_CORS_ORIGINS only. Any other origin gets no CORS headers (the
 * browser keeps the answer from the page) and its preflight is refused with 403, so a
 * state-changing cross-origin call is never even sent. Closed when the list is empty.
 */
export function corsAllowList(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  const allowedOriginCors = cors({
    origin: true,
    credentials: true,
    allowedHeaders: ['authorization', 'content-type', 'x-request-id', 'last-event-id'],
    exposedHeaders: ['x-request-id', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after', 'x-output-next-offset'],
    maxAge: 600,
  });
  return (req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    if (origin !== undefined && allowed.has(origin)) return allowedOriginCors(req, res, next);
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      return next(new AppError('FORBIDDEN', `Cross-origin requests from ${origin ?? 'this origin'} are not allowed (HUB_CORS_ORIGINS)`));
    }
    next();
  };
}
