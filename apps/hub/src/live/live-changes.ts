/** What changed, as read from `live_changed_at` (one row per changed agent, run or execution). */
export interface ChangeRow {
  kind: 'agent' | 'run' | 'execution';
  id: string;
  run_id: string | null;
  status: string;
  changed_at: Date;
}

export interface ChangeBatches {
  'agents.changed'?: { items: { id: string; status: string }[] };
  'runs.changed'?: { items: { id: string; status: string }[] };
  'executions.changed'?: { items: { id: string; runId: string; status: string }[] };
}

/**
 * The tick reads a window that overlaps the previous one (a row committed late carries an earlier
 * time), so the same change can be read twice: it is sent once. Pure, so the windowing is
 * unit-tested without a database.
 */
export class ChangeWindow {
  private readonly sent = new Map<string, number>();
  /** The newest change seen, as the database's clock told it. */
  private cursor: number;

  constructor(
    start: Date,
    private readonly overlapMs: number,
  ) {
    this.cursor = start.getTime();
  }

  /** Read changes strictly after this time. */
  since(): Date {
    return new Date(this.cursor - this.overlapMs);
  }

  /** The rows not sent yet, grouped into one event per kind. */
  take(rows: ChangeRow[]): ChangeBatches {
    const batches: ChangeBatches = {};
    for (const row of rows) {
      const at = new Date(row.changed_at).getTime();
      const key = `${row.kind}:${row.id}:${row.status}:${at}`;
      this.cursor = Math.max(this.cursor, at);
      if (this.sent.has(key)) continue;
      this.sent.set(key, at);
      if (row.kind === 'agent') (batches['agents.changed'] ??= { items: [] }).items.push({ id: row.id, status: row.status });
      else if (row.kind === 'run') (batches['runs.changed'] ??= { items: [] }).items.push({ id: row.id, status: row.status });
      else (batches['executions.changed'] ??= { items: [] }).items.push({ id: row.id, runId: row.run_id!, status: row.status });
    }
    const horizon = this.cursor - this.overlapMs;
    for (const [key, at] of this.sent) if (at <= horizon) this.sent.delete(key);
    return batches;
  }
}
