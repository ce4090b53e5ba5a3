import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AppError } from '../common/errors/app-error';
import { DatabaseHealth } from '../database/database-health';
import { SchedulerService } from '../schedules/scheduler.service';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly database: DatabaseHealth,
    private readonly scheduler: SchedulerService,
  ) {}

  /** The process is up and answering. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /**
   * Ready for traffic: the database answers. 503 with the reason otherwise. The scheduler's part
   * (`leading` or `standby`: another hub leads, or none yet) informs and never fails readiness:
   * every hub serves the API whether or not it fires schedules.
   */
  @Get('ready')
  async ready() {
    const scheduler = this.scheduler.isLeading() ? 'leading' : 'standby';
    const problem = await this.database.problem();
    if (problem) throw new AppError('UNAVAILABLE', problem, { checks: { database: problem, scheduler } });
    return { status: 'ready', checks: { database: 'ok', scheduler } };
  }
}
