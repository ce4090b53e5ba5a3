import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';

/**
 * Tells this hub's scheduler that a job's next fire time changed, so a new earliest occurrence is
 * not left to the next poll. Other hubs' changes are found by that poll (at most a second).
 */
@Injectable()
export class ScheduleChanges {
  private readonly events = new EventEmitter();

  changed(): void {
    this.events.emit('changed');
  }

  onChange(listener: () => void): void {
    this.events.on('changed', listener);
  }
}
