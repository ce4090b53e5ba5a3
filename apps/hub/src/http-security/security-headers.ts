import helmet from 'helmet';

/**
 * helmet's headers with a CSP that the dashboard (a React SPA served from `/`) and Swagger UI at
 * /api/docs both live with: scripts only from this origin (Swagger UI loads its init script as a
 * file), inline styles allowed (Swagger UI and most component libraries set them), images and
 * fonts from this origin or data: URLs, fetch and WebSocket to this origin only, no framing.
 * No `upgrade-insecure-requests`: a hub on plain HTTP (a LAN, or behind a TLS proxy that talks
 * HTTP to it) would otherwise have browsers ask for https:// assets that nothing serves.
 */
export function securityHeaders() {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'base-uri': ["'self'"],
        'connect-src': ["'self'"],
        'font-src': ["'self'", 'data:'],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
        'img-src': ["'self'", 'data:'],
        'object-src': ["'none'"],
        'script-src': ["'self'"],
        'script-src-attr': ["'none'"],
        'style-src': ["'self'", "'unsafe-inline'"],
      },
    },
    xFrameOptions: { action: 'deny' },
  });
}
