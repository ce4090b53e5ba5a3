import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ClusterModule } from '../cluster/cluster.module';
import { LiveGateway } from './live.gateway';

@Module({
  imports: [AuthModule, ClusterModule],
  providers: [LiveGateway],
})
export class LiveModule {}
