import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ValidQuery } from '../common/validation/zod-body';
import { type PreviewQuery, previewQuerySchema } from './schedule.schema';
import { SchedulePreviewService } from './schedule-preview.service';

@ApiTags('schedules')
@ApiBearerAuth()
@Controller('api/v1/schedules')
export class SchedulePreviewController {
  constructor(private readonly preview: SchedulePreviewService) {}

  @Get('preview')
  get(@ValidQuery(previewQuerySchema) query: PreviewQuery) {
    return this.preview.nextRuns(query);
  }
}
