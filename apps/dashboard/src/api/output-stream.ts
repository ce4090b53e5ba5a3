import { EventSourceParserStream } from 'eventsource-parser/stream';
import { ApiError } from './api-error';
import { authorizedFetch } from './client';
import type { Execution } from './types';

export interface OutputChunk {
  stream: 'stdout' | 'stderr';
  seq: number;
  ts: string;
  data?: string;
  dataBase64?: string;
}

export interface OutputHandlers {
  output(chunk: OutputChunk): void;
  status(execution: Execution): void;
  error(error: unknown): void;
}

const RECONNECT_MS = 1000;

/**
 * Follows `GET /executions/:id/stream` (Server-Sent Events) with fetch, because EventSource cannot
 * send the Authorization header. After a dropped connection it resumes with Last-Event-ID, so no
 * chunk is shown twice or lost; it stops at `complete` or when `signal` aborts.
 */
export async function followOutput(executionId: string, handlers: OutputHandlers, signal: AbortSignal): Promise<void> {
  let lastSeq: number | undefined;
  while (!signal.aborted) {
    try {
      const response = await authorizedFetch(`/api/v1/executions/${executionId}/stream`, {
        signal,
        headers: { accept: 'text/event-stream', ...(lastSeq === undefined ? {} : { 'last-event-id': String(lastSeq) }) },
      });
      if (!response.ok) throw await ApiError.from(response);
      const events = response.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
      for await (const event of events as unknown as AsyncIterable<{ event?: string; data: string; id?: string }>) {
        if (event.event === 'output') {
          const chunk = JSON.parse(event.data) as OutputChunk;
          lastSeq = chunk.seq;
          handlers.output(chunk);
        } else if (event.event === 'status' || event.event === 'complete') {
          handlers.status(JSON.parse(event.data) as Execution);
          if (event.event === 'complete') return;
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      handlers.error(error);
      if (error instanceof ApiError && error.status < 500) return;
    }
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
  }
}

export function chunkText(chunk: OutputChunk): string {
  if (chunk.data !== undefined) return chunk.data;
  const binary = atob(chunk.dataBase64 ?? '');
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}
