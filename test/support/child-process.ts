import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { waitFor } from './wait';

/** A child process whose output is kept for assertions and shown when a test fails. */
export class Child {
  readonly process: ChildProcess;
  output = '';
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  private readonly exited: Promise<void>;

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string) {
    this.process = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (data: Buffer) => {
      this.output += data.toString('utf8');
    };
    this.process.stdout!.on('data', collect);
    this.process.stderr!.on('data', collect);
    this.exited = new Promise((resolve) => {
      this.process.on('exit', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        resolve();
      });
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  get running(): boolean {
    return this.exitCode === null && this.exitSignal === null;
  }

  /** Resolves when the process has exited (or rejects after the deadline). */
  async waitExit(timeoutMs = 20_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.exited,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`process ${this.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    this.process.kill(signal);
    await this.waitExit().catch(async () => {
      this.process.kill('SIGKILL');
      await this.waitExit();
    });
  }

  waitForOutput(pattern: RegExp | string, timeoutMs = 20_000): Promise<boolean> {
    return waitFor(() => (typeof pattern === 'string' ? this.output.includes(pattern) : pattern.test(this.output)), {
      timeoutMs,
      what: `output matching ${String(pattern)}`,
    });
  }
}

/** Alive and not a zombie (PID 1 in some sandboxes never reaps orphans). */
export function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
