import { crc32 } from 'node:zlib';
import {
  AgentToHubEvent,
  executionFinishedSchema,
  executionOutputSchema,
  executionStartedSchema,
  parsePayload,
} from '@outpost/protocol';
import type { z } from 'zod';
import type { OutboxMessage } from '../connection/outbox';

/**
 * One record of a spool segment: `u32 bodyLength | u32 crc32(body) | body`, little-endian, and
 * the body `u32 headerLength | header JSON | data`. Output bytes stay binary (no base64 on
 * disk); the CRC lets a torn write at a crash be told apart from a record.
 */
export type SpoolRecord = { kind: 'message'; id: number; message: OutboxMessage } | { kind: 'ack'; id: number };

const FRAME_BYTES = 8;
const HEADER_LENGTH_BYTES = 4;

type Header =
  | { k: 'm'; id: number; event: OutboxMessage['event']; payload: Record<string, unknown> }
  | { k: 'a'; id: number };

export function encodeRecord(record: SpoolRecord): Buffer {
  let header: Header;
  let data: Uint8Array = Buffer.alloc(0);
  if (record.kind === 'ack') {
    header = { k: 'a', id: record.id };
  } else if (record.message.event === AgentToHubEvent.ExecutionOutput) {
    const { data: bytes, ...rest } = record.message.payload;
    header = { k: 'm', id: record.id, event: record.message.event, payload: rest };
    data = bytes;
  } else {
    header = { k: 'm', id: record.id, event: record.message.event, payload: record.message.payload };
  }
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const body = Buffer.allocUnsafe(HEADER_LENGTH_BYTES + headerBytes.length + data.byteLength);
  body.writeUInt32LE(headerBytes.length, 0);
  headerBytes.copy(body, HEADER_LENGTH_BYTES);
  body.set(data, HEADER_LENGTH_BYTES + headerBytes.length);
  const frame = Buffer.allocUnsafe(FRAME_BYTES);
  frame.writeUInt32LE(body.length, 0);
  frame.writeUInt32LE(crc32(body), 4);
  return Buffer.concat([frame, body]);
}

export type DecodeResult =
  | { ok: true; record: SpoolRecord; bytes: number }
  /** `torn`: the file ends inside this record (a write cut short by a crash). */
  | { ok: false; problem: 'torn' | 'corrupt'; message: string };

const PAYLOAD_SCHEMAS: Record<OutboxMessage['event'], z.ZodType<unknown>> = {
  [AgentToHubEvent.ExecutionStarted]: executionStartedSchema,
  [AgentToHubEvent.ExecutionOutput]: executionOutputSchema,
  [AgentToHubEvent.ExecutionFinished]: executionFinishedSchema,
};

/**
 * Reads the record at `offset` of a segment. What comes off the disk is validated like what
 * comes off the wire: a record that fails its CRC or its schema is reported, never trusted.
 */
export function decodeRecord(file: Buffer, offset: number): DecodeResult {
  if (file.length - offset < FRAME_BYTES) return { ok: false, problem: 'torn', message: 'file ends inside a record frame' };
  const bodyLength = file.readUInt32LE(offset);
  const bodyStart = offset + FRAME_BYTES;
  if (file.length - bodyStart < bodyLength) return { ok: false, problem: 'torn', message: 'file ends inside a record' };
  const body = file.subarray(bodyStart, bodyStart + bodyLength);
  if (crc32(body) !== file.readUInt32LE(offset + 4)) return { ok: false, problem: 'corrupt', message: 'checksum mismatch' };
  const record = decodeBody(body);
  if (typeof record === 'string') return { ok: false, problem: 'corrupt', message: record };
  return { ok: true, record, bytes: FRAME_BYTES + bodyLength };
}

function decodeBody(body: Buffer): SpoolRecord | string {
  if (body.length < HEADER_LENGTH_BYTES) return 'record too short';
  const headerEnd = HEADER_LENGTH_BYTES + body.readUInt32LE(0);
  if (headerEnd > body.length) return 'header longer than its record';
  let header: Header;
  try {
    header = JSON.parse(body.subarray(HEADER_LENGTH_BYTES, headerEnd).toString('utf8')) as Header;
  } catch {
    return 'header is not JSON';
  }
  if (typeof header?.id !== 'number' || !Number.isSafeInteger(header.id)) return 'header without an id';
  if (header.k === 'a') return { kind: 'ack', id: header.id };
  const schema = header.k === 'm' ? PAYLOAD_SCHEMAS[header.event] : undefined;
  if (schema === undefined) return 'unknown record kind';
  const payload =
    header.event === AgentToHubEvent.ExecutionOutput
      ? { ...header.payload, data: Buffer.from(body.subarray(headerEnd)) }
      : header.payload;
  const parsed = parsePayload(schema, payload);
  if (!parsed.ok) return `invalid ${header.event}: ${parsed.message}`;
  return { kind: 'message', id: header.id, message: { event: header.event, payload: parsed.value } as OutboxMessage };
}
