import './tune-malloc';
import { Command } from 'commander';
import { enrollCommand } from './cli/enroll.command';
import { installCommand, uninstallCommand } from './cli/install.command';
import { runCommand } from './cli/run.command';
import { statusCommand } from './cli/status.command';
import { CliError } from './cli/cli-error';
import { TlsSettingError } from './connection/tls-policy';
import { AgentConfigError } from './config/agent-config';
import { errorMessage } from './errors';
import { hostFacts } from './health/host-facts';

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const program = new Command('outpost-agent')
  .description('Outpost agent: dials out to the hub and runs the commands it dispatches')
  .version(__AGENT_VERSION__)
  .addCommand(enrollCommand({ agentVersion: __AGENT_VERSION__, facts: hostFacts(), print }))
  .addCommand(runCommand(__AGENT_VERSION__))
  .addCommand(statusCommand(print))
  .addCommand(installCommand(print))
  .addCommand(uninstallCommand(print));

program.parseAsync(process.argv).catch((error: unknown) => {
  // Errors the operator can fix are already worded for them; anything else is a bug, say so.
  const known = error instanceof CliError || error instanceof AgentConfigError || error instanceof TlsSettingError;
  process.stderr.write(`${known ? errorMessage(error) : `outpost-agent: unexpected error: ${errorMessage(error)}`}\n`);
  process.exitCode = 1;
});
