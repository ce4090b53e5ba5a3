import { win32 } from 'node:path';
import { runArguments, ServiceError, type ServiceDefinition, type ServiceManager } from './service-definition';
import type { ServiceHost } from './service-host';
import {
  renderWinswXml,
  WINDOWS_SERVICE_ID,
  WINSW_RUNTIME_CONFIG,
  WINSW_RUNTIME_CONFIG_NAME,
  WINSW_WRAPPER_NAME,
  WINSW_XML_NAME,
} from './winsw-xml';

/**
 * The Windows service through WinSW: install.ps1 puts the wrapper beside the agent as
 * outpost-agent-service.exe, and this writes outpost-agent-service.xml beside both (WinSW reads
 * the XML named like itself). NOT RUN by any test here: there is no Windows machine; the XML is
 * unit-tested and the steps are the ones WinSW documents.
 */
export function windowsServiceManager(host: ServiceHost, executable: string): ServiceManager {
  const directory = win32.dirname(executable);
  const wrapper = win32.join(directory, WINSW_WRAPPER_NAME);
  const xmlPath = win32.join(directory, WINSW_XML_NAME);
  const runtimeConfigPath = win32.join(directory, WINSW_RUNTIME_CONFIG_NAME);
  const winsw = async (command: string, allowFailure = false): Promise<string> => {
    const result = await host.run(wrapper, [command]);
    if (result.exitCode !== 0 && !allowFailure) {
      throw new ServiceError(`${WINSW_WRAPPER_NAME} ${command} failed (exit ${result.exitCode}): ${result.output || 'no output'}`);
    }
    return result.output;
  };
  const requireWrapper = (): void => {
    if (!host.exists(wrapper)) {
      throw new ServiceError(`the service wrapper ${wrapper} is missing: install.ps1 puts it beside ${win32.basename(executable)}`);
    }
  };
  const xmlFor = (definition: ServiceDefinition): string =>
    renderWinswXml({
      // The service runs the agent binary itself; `command` beyond it would be node + script, which WinSW can run too.
      executable: definition.command[0]!,
      arguments: [...definition.command.slice(1), ...runArguments(definition)],
      logDirectory: win32.join(win32.dirname(definition.configPath), 'logs'),
      environment: definition.environment,
    });

  return {
    render: (definition) => [
      { path: xmlPath, content: xmlFor(definition) },
      { path: runtimeConfigPath, content: WINSW_RUNTIME_CONFIG },
    ],

    async install(definition) {
      requireWrapper();
      await host.makeDirectory(definition.dataDir, 0o700);
      await host.makeDirectory(win32.join(win32.dirname(definition.configPath), 'logs'), 0o700);
      // WinSW refuses to install over an existing service: a re-install replaces it.
      if (!(await winsw('status', true)).includes('NonExistent')) {
        await winsw('stop', true);
        await winsw('uninstall');
      }
      await host.writeFile(xmlPath, xmlFor(definition), 0o644);
      await host.writeFile(runtimeConfigPath, WINSW_RUNTIME_CONFIG, 0o644);
      await winsw('install');
      await winsw('start');
      return [`installed and started the Windows service ${WINDOWS_SERVICE_ID} (${xmlPath})`];
    },

    async uninstall() {
      requireWrapper();
      if ((await winsw('status', true)).includes('NonExistent')) return [`the service ${WINDOWS_SERVICE_ID} is not installed; nothing to do`];
      await winsw('stop', true);
      await winsw('uninstall');
      await host.removeFile(xmlPath);
      return [`stopped and removed the Windows service ${WINDOWS_SERVICE_ID}; the config file and data directory are left in place`];
    },
  };
}
