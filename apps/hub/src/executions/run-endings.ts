import { Injectable } from '@nestjs/common';
import { KeyedWakeups } from '../common/wakeups/keyed-wakeups';

/**
 * Runs that ended, by run id: notified where a run is settled or canceled, awaited by
 * `GET /api/v1/runs/:id?wait=` (which also re-reads, for runs ended through another hub).
 */
@Injectable()
export class RunEndings extends KeyedWakeups {}
