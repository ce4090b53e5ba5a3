import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** Paths the hub answers itself: the dashboard's fallback must never shadow them. */
export const HUB_PATHS = ['/api', '/health', '/downloads', '/install.sh', '/install.ps1', '/socket.io', '/metrics'];

export function isDashboardRoute(urlPath: string): boolean {
  return !HUB_PATHS.some((prefix) => urlPath === prefix || urlPath.startsWith(`${prefix}/`)) && path.extname(urlPath) === '';
}

/**
 * The dashboard is static files (public, like the install scripts): hashed assets are cached for
 * good, and any other page path a browser asks for (`/agents/…` after a reload) gets index.html so
 * the app's router takes over. Plain middleware rather than a Nest route, so it is outside the
 * API's access policy and never answers for a hub path.
 */
export function serveDashboard(app: NestExpressApplication, dir: string): void {
  const index = path.join(dir, 'index.html');
  if (!existsSync(index)) return;
  app.useStaticAssets(path.join(dir, 'assets'), { prefix: '/assets/', immutable: true, maxAge: '365d', fallthrough: false });
  app.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !isDashboardRoute(req.path) || !req.accepts('html')) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
}
