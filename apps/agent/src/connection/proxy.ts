import { getProxyForUrl } from 'proxy-from-env';

/**
 * The proxy to reach `url` through, from the conventional variables (`HTTPS_PROXY` for https://
 * hubs, `HTTP_PROXY` for http://, `ALL_PROXY`, each in either case) minus `NO_PROXY` (host names,
 * `.domain` suffixes, `host:port`, `*`); undefined for a direct connection. Hosts behind firewalls
 * often reach out only through a proxy, and operators set these variables for every tool alike, so
 * they are read from the environment on purpose, for each new connection.
 */
export function proxyFor(url: string): string | undefined {
  // A WHATWG URL object, not the string: the library would otherwise use the deprecated url.parse().
  const proxy = getProxyForUrl(new URL(url));
  return proxy === '' ? undefined : proxy;
}

/** The proxy URL as it may be logged: without the user and password it may carry. */
export function redactProxy(proxy: string): string {
  try {
    const url = new URL(proxy);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(unparseable proxy URL)';
  }
}
