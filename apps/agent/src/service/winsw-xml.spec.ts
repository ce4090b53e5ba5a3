import { describe, expect, it } from 'vitest';
import { escapeXml, renderWinswXml, windowsArgument } from './winsw-xml';

describe('the WinSW service definition', () => {
  const xml = renderWinswXml({
    executable: 'C:\\Program Files\\Outpost\\outpost-agent.exe',
    arguments: ['run', '--config', 'C:\\ProgramData\\Outpost\\agent.json', '--data-dir', 'C:\\ProgramData\\Outpost'],
    logDirectory: 'C:\\ProgramData\\Outpost\\logs',
    environment: { HTTPS_PROXY: 'http://proxy.corp:3128', NO_PROXY: 'localhost&intranet' },
  });

  it('names the service, the executable and its arguments', () => {
    expect(xml).toContain('<id>outpost-agent</id>');
    expect(xml).toContain('<executable>C:\\Program Files\\Outpost\\outpost-agent.exe</executable>');
    expect(xml).toContain('<arguments>run --config C:\\ProgramData\\Outpost\\agent.json --data-dir C:\\ProgramData\\Outpost</arguments>');
    expect(xml).toContain('<startmode>Automatic</startmode>');
  });

  it('restarts on failure, stops politely first, and rolls its logs', () => {
    expect(xml.match(/<onfailure action="restart" delay="\d+ sec"\/>/g)).toHaveLength(3);
    expect(xml).toContain('<resetfailure>1 hour</resetfailure>');
    expect(xml).toContain('<stoptimeout>45 sec</stoptimeout>');
    expect(xml).toContain('<stopparentprocessfirst>true</stopparentprocessfirst>');
    expect(xml).toContain('<logpath>C:\\ProgramData\\Outpost\\logs</logpath>');
    expect(xml).toMatch(/<log mode="roll-by-size">\s*<sizeThreshold>10240<\/sizeThreshold>\s*<keepFiles>8<\/keepFiles>\s*<\/log>/);
  });

  it('escapes XML in values and hands the proxy settings on', () => {
    expect(xml).toContain('<env name="HTTPS_PROXY" value="http://proxy.corp:3128"/>');
    expect(xml).toContain('<env name="NO_PROXY" value="localhost&amp;intranet"/>');
    expect(escapeXml(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;');
    expect(() => escapeXml('bell\x07')).toThrow('not representable in XML');
  });

  it('is well formed: every element closed, in order', () => {
    const stack: string[] = [];
    for (const [, closing, name, selfClosing] of xml.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
      if (selfClosing) continue;
      if (closing) expect(stack.pop()).toBe(name);
      else stack.push(name!);
    }
    expect(stack).toEqual([]);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
  });

  it('quotes arguments the way Windows programs read them back', () => {
    expect(windowsArgument('C:\\ProgramData\\Outpost\\agent.json')).toBe('C:\\ProgramData\\Outpost\\agent.json');
    expect(windowsArgument('C:\\Program Files\\Outpost\\agent.json')).toBe('"C:\\Program Files\\Outpost\\agent.json"');
    expect(windowsArgument('C:\\Program Files\\Outpost\\')).toBe('"C:\\Program Files\\Outpost\\\\"');
    expect(windowsArgument('say "hi"')).toBe('"say \\"hi\\""');
    expect(windowsArgument('a\\"b c')).toBe('"a\\\\\\"b c"');
    expect(windowsArgument('')).toBe('""');
  });
});
