import { Controller, Get, Header, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { uuidSchema } from '../common/validation/common-schemas';
import { ValidParam, ValidQuery } from '../common/validation/zod-body';
import { ExecutionsService } from './executions.service';

const outputQuerySchema = z.object({
  stream: z.enum(['stdout', 'stderr', 'combined']).default('combined'),
});

@ApiTags('executions')
@ApiBearerAuth()
@Controller('api/v1/executions')
export class ExecutionsController {
  constructor(private readonly executions: ExecutionsService) {}

  @Get(':id')
  get(@ValidParam('id', uuidSchema) id: string) {
    return this.executions.get(id);
  }

  /** Output bytes served as UTF-8 text, invalid sequences replaced (DESIGN.md §4). */
  @Get(':id/output')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @ApiProduces('text/plain')
  async output(
    @ValidParam('id', uuidSchema) id: string,
    @ValidQuery(outputQuerySchema) query: z.infer<typeof outputQuerySchema>,
  ): Promise<StreamableFile> {
    const bytes = await this.executions.output(id, query.stream);
    return new StreamableFile(Buffer.from(new TextDecoder('utf-8').decode(bytes), 'utf8'));
  }
}
