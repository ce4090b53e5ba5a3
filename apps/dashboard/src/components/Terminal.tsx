import { FitAddon } from '@xterm/addon-fit';
import { Terminal as XTerm } from '@xterm/xterm';
import { forwardRef, useEffect, useImperativeHandle, useRef } from 'react';

export interface TerminalHandle {
  write(text: string, stream: 'stdout' | 'stderr'): void;
  clear(): void;
}

const STDERR_ON = '\x1b[31m';
const COLOUR_OFF = '\x1b[0m';

/**
 * xterm.js view of an execution's output: the command's own ANSI colours are kept, and stderr
 * is drawn in red so it stands apart from stdout.
 */
export const Terminal = forwardRef<TerminalHandle, { label: string; height: number }>(function Terminal({ label, height }, ref) {
  const container = useRef<HTMLDivElement>(null);
  const terminal = useRef<XTerm | null>(null);

  useEffect(() => {
    const term = new XTerm({
      convertEol: true,
      disableStdin: true,
      scrollback: 20_000,
      fontSize: 13,
      fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
      theme: { background: '#1a1b1e' },
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(container.current!);
    fit.fit();
    terminal.current = term;
    const observer = new ResizeObserver(() => fit.fit());
    observer.observe(container.current!);
    return () => {
      observer.disconnect();
      term.dispose();
      terminal.current = null;
    };
  }, []);

  useImperativeHandle(ref, () => ({
    write: (text, stream) => terminal.current?.write(stream === 'stderr' ? `${STDERR_ON}${text}${COLOUR_OFF}` : text),
    clear: () => terminal.current?.reset(),
  }));

  return <div ref={container} role="log" aria-label={label} data-terminal style={{ height, width: '100%', overflow: 'hidden', background: '#1a1b1e', padding: 4 }} />;
});
