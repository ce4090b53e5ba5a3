import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import type { Response } from 'express';
import { AppError } from '../common/errors/app-error';
import { Execution } from './execution.entity';
import { isFinalExecutionStatus } from './execution-state';
import { toExecutionView } from './execution-views';
import { ExecutionOutputService } from './execution-output.service';
import { chunkData } from './output-encoding';
import type { Wakeup } from '../common/wakeups/keyed-wakeups';
import { OutputEvents } from './output-events';
import { loggableError } from '../logging/loggable-error';

/** A follower with no in-process notice (output stored through another hub, a sweep ending the execution) looks this often. */
const POLL_MS = 1_000;
/** A comment line this often keeps proxies and load balancers from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;
/**
 * Chunks of a running execution can be stored out of order (the agent keeps several in flight):
 * a missing seq is waited for this long before the stream moves past it, so a follower never
 * skips output that is merely late, and never stalls for good on a chunk that will not come.
 */
const GAP_WAIT_MS = 5_000;
const BATCH = 200;

/**
 * One execution's output as Server-Sent Events, for `curl -N` and the dashboard: `status` on
 * every state change, `output` per chunk (`id:` = its seq, so a reconnect with Last-Event-ID
 * resumes after it), `complete` once the execution is final and every chunk was sent. The
 * database is the source (catch-up by seq); in-process notices only make it prompt.
 */
@Injectable()
export class OutputStreamService {
  private readonly logger = new Logger(OutputStreamService.name);

  constructor(
    private readonly em: EntityManager,
    private readonly output: ExecutionOutputService,
    private readonly events: OutputEvents,
  ) {}

  /** Streams until the execution is complete or the client goes; `lastSeq` is the last chunk the client has. */
  async follow(executionId: string, lastSeq: number, res: Response): Promise<void> {
    let execution = await this.load(executionId);
    if (execution === null) throw AppError.notFound('Execution', executionId);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // nginx would otherwise buffer the stream and nothing would look live.
      'x-accel-buffering': 'no',
    });
    let wakeup: Wakeup | null = null;
    let closed = false;
    // The response's close, not the request's: that one fires as soon as the request is read.
    res.on('close', () => {
      closed = true;
      wakeup?.cancel();
    });
    const sse = new SseWriter(res);
    let seq = lastSeq;
    let sentStatus: string | null = null;
    let gapSince: number | null = null;
    try {
      await sse.comment(`execution ${executionId}`);
      while (!closed && execution !== null) {
        wakeup = this.events.subscribe(executionId, POLL_MS);
        if (execution.status !== sentStatus) {
          await sse.event('status', toExecutionView(execution));
          sentStatus = execution.status;
        }
        // Final means the agent's result is stored, and it sends that only after all of its output.
        const final = isFinalExecutionStatus(execution.status);
        for (let more = true; more && !closed; ) {
          const chunks = await this.output.after(executionId, seq, BATCH);
          more = chunks.length === BATCH;
          for (const chunk of chunks) {
            if (closed) break;
            const gapOver = gapSince !== null && Date.now() - gapSince >= GAP_WAIT_MS;
            if (chunk.seq !== seq + 1 && !final && !gapOver) {
              gapSince ??= Date.now();
              more = false;
              break;
            }
            gapSince = null;
            seq = chunk.seq;
            await sse.event('output', { stream: chunk.stream, seq: chunk.seq, ts: chunk.at.toISOString(), ...chunkData(chunk.data) }, chunk.seq);
          }
        }
        if (final) {
          await sse.event('complete', toExecutionView(execution));
          break;
        }
        await wakeup.woken;
        if (sse.idleMs >= KEEPALIVE_MS) await sse.comment('keep-alive');
        execution = await this.load(executionId);
      }
    } catch (error) {
      // Headers are sent: the client sees the stream end and can resume with Last-Event-ID.
      this.logger.warn({ executionId, ...loggableError(error) }, 'output stream failed');
    } finally {
      wakeup?.cancel();
      res.end();
    }
  }

  private load(executionId: string): Promise<Execution | null> {
    return this.em.fork().findOne(Execution, { id: executionId });
  }
}

/** Writes SSE frames, waiting for the socket to drain: a slow client slows its stream, not the hub's memory. */
class SseWriter {
  private lastWriteAt = Date.now();

  constructor(private readonly res: Response) {}

  get idleMs(): number {
    return Date.now() - this.lastWriteAt;
  }

  event(name: string, data: unknown, id?: number): Promise<void> {
    return this.write(`event: ${name}\n${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`);
  }

  comment(text: string): Promise<void> {
    return this.write(`: ${text}\n\n`);
  }

  private async write(frame: string): Promise<void> {
    this.lastWriteAt = Date.now();
    // A client that left: neither 'drain' nor 'close' would come again.
    if (this.res.destroyed || this.res.write(frame) || this.res.destroyed) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.once('drain', done);
      this.res.once('close', done);
    });
  }
}
