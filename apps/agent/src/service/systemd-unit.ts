/**
 * The systemd unit, rendered from the template in deploy/systemd/outpost-agent.service (bundled
 * into the agent as text). Pure: the same inputs always give the same unit, and tests check it.
 */

export const SYSTEMD_UNIT_NAME = 'outpost-agent.service';

export interface SystemdUnitOptions {
  /** The agent's command line: the binary (or node and the script), then `run --config ...`. */
  command: readonly string[];
  /** Writable despite ProtectSystem=strict: the config directory (credential rotation), the data directory, extras. */
  readWritePaths: readonly string[];
  /** Optional environment file beside the config (`-`: may be absent). */
  environmentFile: string;
  /** Exported to the agent (the installer's proxy settings). */
  environment: Readonly<Record<string, string>>;
  /** false: leave out the sandbox section, for hosts whose commands must change the whole system. */
  sandbox: boolean;
}

/** `%` starts a specifier everywhere in a unit file; `%%` is a literal one. */
function escapeSpecifiers(value: string): string {
  return value.replace(/%/g, '%%');
}

/** Refused outright: a newline would end the directive, and NUL cannot be in a path or argument. */
function assertSingleLine(value: string, what: string): void {
  if (/[\n\r\0]/.test(value)) throw new Error(`${what} must not contain a line break or NUL: ${JSON.stringify(value)}`);
}

function doubleQuote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * One word of ExecStart=: `%` and `$` escaped (systemd expands both there), quoted when it holds
 * anything but plain path characters.
 */
export function systemdExecWord(word: string): string {
  assertSingleLine(word, 'a command-line word');
  const escaped = escapeSpecifiers(word).replace(/\$/g, '$$$$');
  return /^[A-Za-z0-9_\/.:=,+@%$-]+$/.test(escaped) ? escaped : doubleQuote(escaped);
}

/** A path in a list directive (ReadWritePaths=): quoted when it holds spaces or quotes. */
export function systemdPath(path: string): string {
  assertSingleLine(path, 'a path');
  if (!path.startsWith('/')) throw new Error(`systemd needs an absolute path, not ${JSON.stringify(path)}`);
  const escaped = escapeSpecifiers(path);
  return /^[A-Za-z0-9_\/.:,+@%-]+$/.test(escaped) ? escaped : doubleQuote(escaped);
}

/** `Environment="NAME=value"`. */
export function systemdEnvironment(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid environment variable name ${JSON.stringify(name)}`);
  assertSingleLine(value, `the value of ${name}`);
  return `Environment=${doubleQuote(escapeSpecifiers(`${name}=${value}`))}`;
}

const SANDBOX_BLOCK = /^# sandbox:begin.*\n[\s\S]*?^# sandbox:end\n/m;

export function renderSystemdUnit(template: string, options: SystemdUnitOptions): string {
  if (options.command.length === 0) throw new Error('the service needs a command');
  if (!options.command[0]!.startsWith('/')) throw new Error(`ExecStart needs an absolute path, not ${options.command[0]}`);
  const uniquePaths = [...new Set(options.readWritePaths)];
  const values: Record<string, string> = {
    EXEC_START: options.command.map(systemdExecWord).join(' '),
    ENVIRONMENT: Object.entries(options.environment)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => systemdEnvironment(name, value))
      .join('\n'),
    ENVIRONMENT_FILE: escapeSpecifiers(options.environmentFile),
    READ_WRITE_PATHS: uniquePaths.map((path) => `ReadWritePaths=${systemdPath(path)}`).join('\n'),
  };
  assertSingleLine(options.environmentFile, 'the environment file');
  let unit = options.sandbox ? template : template.replace(SANDBOX_BLOCK, '');
  if (options.sandbox && !SANDBOX_BLOCK.test(template)) throw new Error('the unit template has no sandbox section');
  unit = unit.replace(/^@([A-Z_]+)@\n/gm, (_line, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`unknown placeholder @${name}@ in the unit template`);
    return value === '' ? '' : `${value}\n`;
  });
  unit = unit.replace(/@([A-Z_]+)@/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`unknown placeholder @${name}@ in the unit template`);
    return value;
  });
  return unit;
}
