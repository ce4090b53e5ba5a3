/** What the service runs and with which settings; every path absolute. */
export interface ServiceDefinition {
  /** The agent executable, or node and the bundled script when not running as a single binary. */
  command: readonly string[];
  configPath: string;
  dataDir: string;
  /** Proxy settings to hand on to the service, which does not inherit the installer's shell. */
  environment: Readonly<Record<string, string>>;
  /** systemd only: keep the sandbox section (default) or leave it out. */
  sandbox: boolean;
  /** systemd only: extra writable paths under the sandbox. */
  extraReadWritePaths: readonly string[];
}

/** Installs, removes or shows the OS service; returns lines to print. */
export interface ServiceManager {
  /** The files it would write, for `install --print`. */
  render(definition: ServiceDefinition): Array<{ path: string; content: string }>;
  install(definition: ServiceDefinition): Promise<string[]>;
  uninstall(): Promise<string[]>;
}

/** The agent's own arguments when it runs as a service. */
export function runArguments(definition: Pick<ServiceDefinition, 'configPath' | 'dataDir'>): string[] {
  return ['run', '--config', definition.configPath, '--data-dir', definition.dataDir];
}

/** A refusal or failure worded for the operator (printed as one line, exit 1). */
export class ServiceError extends Error {}
