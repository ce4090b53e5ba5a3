import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { type AuthenticatedUser, CurrentUser } from '../auth/authenticated-user';
import { SchedulerStatusService } from './scheduler-status.service';

@ApiTags('schedules')
@ApiBearerAuth()
@Controller('api/v1/scheduler')
export class SchedulerController {
  constructor(private readonly status: SchedulerStatusService) {}

  @Get()
  get() {
    return this.status.get();
  }

  @Post('pause')
  @HttpCode(200)
  pause(@CurrentUser() user: AuthenticatedUser) {
    return this.status.pause(user.id);
  }

  @Post('resume')
  @HttpCode(200)
  resume(@CurrentUser() user: AuthenticatedUser) {
    return this.status.resume(user.id);
  }
}
