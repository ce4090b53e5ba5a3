// proxy-from-env 1.1 ships no types; this is its one export.
declare module 'proxy-from-env' {
  /** The proxy URL for `url` from *_PROXY / NO_PROXY (either case), or '' for a direct connection. */
  export function getProxyForUrl(url: string | { protocol?: string; host?: string; port?: string }): string;
}
