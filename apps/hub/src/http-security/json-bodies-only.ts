import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../common/errors/app-error';

/**
 * API bodies are JSON: a body of another type would otherwise reach validation as "no fields"
 * and be answered with a misleading list of missing fields. Requests without a body pass.
 */
export function jsonBodiesOnly(req: Request, _res: Response, next: NextFunction): void {
  // `Content-Length: 0` (fetch sends it for a POST without body) counts as a body for req.is().
  if (req.headers['content-length'] === '0') return next();
  const matched = req.is(['application/json', 'application/*+json']);
  if (matched === null || matched !== false) return next();
  next(new AppError('UNSUPPORTED_MEDIA_TYPE', `Request bodies must be application/json, not ${req.headers['content-type'] ?? 'untyped'}`));
}
