import { Module } from '@nestjs/common';
import { EnrollmentTokensController } from './enrollment-tokens.controller';
import { EnrollmentTokensService } from './enrollment-tokens.service';

@Module({
  controllers: [EnrollmentTokensController],
  providers: [EnrollmentTokensService],
  exports: [EnrollmentTokensService],
})
export class EnrollmentModule {}
