import type { ServiceManager } from './service-definition';
import { ServiceError } from './service-definition';
import type { ServiceHost } from './service-host';
import { systemdServiceManager } from './systemd.service-manager';
import { windowsServiceManager } from './windows.service-manager';

/** One implementation per OS, chosen here only. */
export function serviceManagerFor(host: ServiceHost, options: { executable: string }): ServiceManager {
  if (host.platform === 'linux') return systemdServiceManager(host);
  if (host.platform === 'win32') return windowsServiceManager(host, options.executable);
  throw new ServiceError(`installing a service is supported on Linux (systemd) and Windows, not on ${host.platform}`);
}
