import { Module } from '@nestjs/common';
import { HubSignalsService } from './hub-signals.service';

/** What hubs sharing one database tell each other. */
@Module({
  providers: [HubSignalsService],
  exports: [HubSignalsService],
})
export class ClusterModule {}
