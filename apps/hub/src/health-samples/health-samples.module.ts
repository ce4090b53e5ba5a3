import { Module } from '@nestjs/common';
import { HealthSamplesService } from './health-samples.service';

@Module({ providers: [HealthSamplesService], exports: [HealthSamplesService] })
export class HealthSamplesModule {}
