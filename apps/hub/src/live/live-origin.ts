/**
 * Browsers send `Origin` on a WebSocket handshake and nothing stops a page on another site from
 * opening one to the hub (cross-site WebSocket hijacking), so a browser's socket is accepted only
 * from the hub's own origin: the host it asked for, or the configured public URL. Non-browser
 * clients send no Origin and authenticate with their token like any API client.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, publicUrl: string): boolean {
  if (!origin) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  return parsed.origin === new URL(publicUrl).origin || (host !== undefined && parsed.host === host);
}
