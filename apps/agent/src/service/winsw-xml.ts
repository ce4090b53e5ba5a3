/**
 * The Windows service definition for WinSW (1.17, shipped in the npm package node-windows): an
 * XML file named like the wrapper executable, beside it. WinSW answers the service control
 * manager, starts the agent, stops it with Ctrl+C (the agent drains as on SIGINT) and restarts
 * it when it exits. Pure, so it is tested here although it only runs on Windows.
 */

export const WINDOWS_SERVICE_ID = 'outpost-agent';
/** WinSW reads `<its own name>.xml`: the wrapper is installed as outpost-agent-service.exe. */
export const WINSW_WRAPPER_NAME = 'outpost-agent-service.exe';
export const WINSW_XML_NAME = 'outpost-agent-service.xml';
export const WINSW_RUNTIME_CONFIG_NAME = `${WINSW_WRAPPER_NAME}.config`;

/**
 * WinSW 1.x is built for .NET 2.0, which a stock Windows 8 / Server 2012 or later lacks; this
 * file beside the wrapper lets it run on the .NET 4 those systems ship.
 */
export const WINSW_RUNTIME_CONFIG = `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <startup>
    <supportedRuntime version="v2.0.50727" />
    <supportedRuntime version="v4.0" />
  </startup>
</configuration>
`;

export interface WinswOptions {
  /** The agent executable (outpost-agent.exe). */
  executable: string;
  /** Its arguments, quoted here for Windows: `run --config C:\ProgramData\Outpost\agent.json ...`. */
  arguments: readonly string[];
  /** Where WinSW writes the agent's stdout/stderr logs. */
  logDirectory: string;
  environment: Readonly<Record<string, string>>;
}

export function escapeXml(value: string): string {
  if (/[\0-\x08\x0b\x0c\x0e-\x1f]/.test(value)) throw new Error(`not representable in XML: ${JSON.stringify(value)}`);
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/**
 * One argument as the C runtime's command-line parser (CommandLineToArgvW) reads it back:
 * quoted when it holds a space, tab or quote; backslashes doubled only before a quote.
 */
export function windowsArgument(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  let quoted = '"';
  let backslashes = 0;
  for (const char of arg) {
    if (char === '\\') {
      backslashes += 1;
      continue;
    }
    quoted += char === '"' ? '\\'.repeat(backslashes * 2 + 1) + '"' : '\\'.repeat(backslashes) + char;
    backslashes = 0;
  }
  return `${quoted}${'\\'.repeat(backslashes * 2)}"`;
}

export function renderWinswXml(options: WinswOptions): string {
  const env = Object.entries(options.environment)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `  <env name="${escapeXml(name)}" value="${escapeXml(value)}"/>\n`)
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<!-- Written by `outpost-agent install`; `outpost-agent uninstall` removes the service. -->\n' +
    '<service>\n' +
    `  <id>${WINDOWS_SERVICE_ID}</id>\n` +
    '  <name>Outpost agent</name>\n' +
    '  <description>Runs the commands its Outpost hub dispatches; dials out to the hub, listens on no port.</description>\n' +
    `  <executable>${escapeXml(options.executable)}</executable>\n` +
    `  <arguments>${escapeXml(options.arguments.map(windowsArgument).join(' '))}</arguments>\n` +
    '  <startmode>Automatic</startmode>\n' +
    // Ctrl+C first: the agent lets running commands finish for its shutdown grace (30 s), then
    // stops them; WinSW kills it only after this, with margin.
    '  <stopparentprocessfirst>true</stopparentprocessfirst>\n' +
    '  <stoptimeout>45 sec</stoptimeout>\n' +
    // Restart always, a little later each time, and forget old failures after an hour.
    '  <onfailure action="restart" delay="5 sec"/>\n' +
    '  <onfailure action="restart" delay="10 sec"/>\n' +
    '  <onfailure action="restart" delay="30 sec"/>\n' +
    '  <resetfailure>1 hour</resetfailure>\n' +
    env +
    `  <logpath>${escapeXml(options.logDirectory)}</logpath>\n` +
    // The agent logs JSON lines to stderr: keep 8 files of 10 MB.
    '  <log mode="roll-by-size">\n' +
    '    <sizeThreshold>10240</sizeThreshold>\n' +
    '    <keepFiles>8</keepFiles>\n' +
    '  </log>\n' +
    '</service>\n'
  );
}
