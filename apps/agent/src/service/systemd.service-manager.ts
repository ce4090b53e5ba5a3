import { dirname, posix } from 'node:path';
import unitTemplate from '../../../../deploy/systemd/outpost-agent.service?raw';
import { runArguments, ServiceError, type ServiceDefinition, type ServiceManager } from './service-definition';
import type { ServiceHost } from './service-host';
import { renderSystemdUnit, SYSTEMD_UNIT_NAME } from './systemd-unit';

export const SYSTEMD_UNIT_PATH = posix.join('/etc/systemd/system', SYSTEMD_UNIT_NAME);
/** Present exactly when systemd is the running init (what sd_booted(3) checks). */
const SYSTEMD_RUNTIME_DIR = '/run/systemd/system';

export function systemdUnitFor(definition: ServiceDefinition, template: string = unitTemplate): string {
  const configDir = dirname(definition.configPath);
  return renderSystemdUnit(template, {
    command: [...definition.command, ...runArguments(definition)],
    readWritePaths: [configDir, definition.dataDir, ...definition.extraReadWritePaths],
    environmentFile: posix.join(configDir, 'agent.env'),
    environment: definition.environment,
    sandbox: definition.sandbox,
  });
}

function manualStart(definition: ServiceDefinition): string {
  return [...definition.command, ...runArguments(definition)].map((word) => (/^[\w\/.:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export function systemdServiceManager(host: ServiceHost): ServiceManager {
  const systemctl = async (...args: string[]): Promise<void> => {
    const result = await host.run('systemctl', args);
    if (result.exitCode !== 0) {
      throw new ServiceError(`systemctl ${args.join(' ')} failed (exit ${result.exitCode}): ${result.output || 'no output'}`);
    }
  };
  const requireSystemdAndRoot = (definition?: ServiceDefinition): void => {
    if (!host.exists(SYSTEMD_RUNTIME_DIR)) {
      const hint = definition ? `; start the agent by hand instead: ${manualStart(definition)}` : '';
      throw new ServiceError(`systemd is not running on this host (no ${SYSTEMD_RUNTIME_DIR}), so there is no service to manage${hint}`);
    }
    if (!host.isAdministrator()) throw new ServiceError(`managing the ${SYSTEMD_UNIT_NAME} service needs root: run it with sudo`);
  };

  return {
    render: (definition) => [{ path: SYSTEMD_UNIT_PATH, content: systemdUnitFor(definition) }],

    async install(definition) {
      requireSystemdAndRoot(definition);
      const unit = systemdUnitFor(definition);
      // ProtectSystem=strict can only make existing paths writable: they must exist before the first start.
      for (const path of [dirname(definition.configPath), definition.dataDir, ...definition.extraReadWritePaths]) {
        await host.makeDirectory(path, 0o700);
      }
      await host.writeFile(SYSTEMD_UNIT_PATH, unit, 0o644);
      await systemctl('daemon-reload');
      // enable, then restart rather than `enable --now`: a re-install must restart a running
      // agent so that the new unit and binary take effect; restart starts a stopped one.
      await systemctl('enable', SYSTEMD_UNIT_NAME);
      await systemctl('restart', SYSTEMD_UNIT_NAME);
      return [
        `installed ${SYSTEMD_UNIT_PATH}; the service is enabled and started`,
        `status: systemctl status ${SYSTEMD_UNIT_NAME}; logs: journalctl -u ${SYSTEMD_UNIT_NAME}`,
      ];
    },

    async uninstall() {
      requireSystemdAndRoot();
      if (host.exists(SYSTEMD_UNIT_PATH)) {
        // Drains like any stop: running commands get the agent's shutdown grace.
        await systemctl('disable', '--now', SYSTEMD_UNIT_NAME);
        await host.removeFile(SYSTEMD_UNIT_PATH);
        await systemctl('daemon-reload');
        return [`stopped and removed ${SYSTEMD_UNIT_PATH}; the config file and data directory are left in place`];
      }
      return [`${SYSTEMD_UNIT_PATH} is not installed; nothing to do`];
    },
  };
}
