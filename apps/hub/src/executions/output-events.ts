import { Injectable } from '@nestjs/common';
import { KeyedWakeups } from '../common/wakeups/keyed-wakeups';

/**
 * Live output, by execution id: the agent gateway's reports notify, the SSE streams of the same
 * execution wake up and read the database (they also poll, for output stored through another hub).
 */
@Injectable()
export class OutputEvents extends KeyedWakeups {}
