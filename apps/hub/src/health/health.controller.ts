import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AppError } from '../common/errors/app-error';
import { DatabaseHealth } from '../database/database-health';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly database: DatabaseHealth) {}

  /** The process is up and answering. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** Ready for traffic: the database answers. 503 with the reason otherwise. */
  @Get('ready')
  async ready() {
    const problem = await this.database.problem();
    if (problem) throw new AppError('UNAVAILABLE', problem, { checks: { database: problem } });
    return { status: 'ready', checks: { database: 'ok' } };
  }
}
