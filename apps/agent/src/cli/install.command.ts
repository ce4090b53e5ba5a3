import { dirname, resolve } from 'node:path';
import { isSea } from 'node:sea';
import { Command } from 'commander';
import { defaultConfigPath, readAgentConfig } from '../config/agent-config';
import { type ServiceDefinition, ServiceError } from '../service/service-definition';
import { realServiceHost } from '../service/service-host';
import { serviceManagerFor } from '../service/service-manager';
import { CliError } from './cli-error';

interface InstallOptions {
  config?: string;
  dataDir?: string;
  binary?: string;
  sandbox: boolean;
  readWritePath: string[];
  print?: boolean;
}

/** The proxy variables the service gets from the installer's environment (it inherits none). */
const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy'];

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The command that starts this very agent: the single binary, or node with the bundled script. */
function thisAgent(): string[] {
  return isSea() ? [process.execPath] : [process.execPath, resolve(process.argv[1] ?? '')];
}

export function installCommand(print: (line: string) => void): Command {
  return new Command('install')
    .description('install and start the agent as a service (systemd on Linux, a Windows service through WinSW)')
    .option('--config <file>', `config file written by enroll (default ${defaultConfigPath()})`)
    .option('--data-dir <dir>', 'data directory (default: the config file\'s directory)')
    .option('--binary <path>', 'the agent executable the service runs (default: this one)')
    .option('--no-sandbox', 'systemd: leave out ProtectSystem and the other sandboxing, for hosts whose commands change the whole system')
    .option('--read-write-path <path>', 'systemd: a path the commands may write under the sandbox (repeatable)', collect, [])
    .option('--print', 'print the service definition instead of installing it')
    .action(async (options: InstallOptions) => {
      const configPath = resolve(options.config ?? defaultConfigPath());
      const command = options.binary !== undefined ? [resolve(options.binary)] : thisAgent();
      const environment = Object.fromEntries(
        PROXY_VARIABLES.flatMap((name) => {
          const value = process.env[name];
          return value ? [[name, value]] : [];
        }),
      );
      const definition: ServiceDefinition = {
        command,
        configPath,
        dataDir: resolve(options.dataDir ?? dirname(configPath)),
        environment,
        sandbox: options.sandbox,
        extraReadWritePaths: options.readWritePath.map((path) => resolve(path)),
      };
      await withServiceErrors(async () => {
        const manager = serviceManagerFor(realServiceHost(), { executable: command[0]! });
        if (options.print) {
          for (const file of manager.render(definition)) {
            print(`# ${file.path}`);
            print(file.content.trimEnd());
          }
          return;
        }
        // A service without an identity would only crash-loop: enroll first.
        await readAgentConfig(configPath);
        for (const line of await manager.install(definition)) print(line);
      });
    });
}

export function uninstallCommand(print: (line: string) => void): Command {
  return new Command('uninstall')
    .description('stop and remove the agent\'s service (the config file and data stay)')
    .action(async () => {
      await withServiceErrors(async () => {
        const manager = serviceManagerFor(realServiceHost(), { executable: thisAgent()[0]! });
        for (const line of await manager.uninstall()) print(line);
      });
    });
}

async function withServiceErrors(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (error instanceof ServiceError) throw new CliError(error.message);
    throw error;
  }
}
