import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ClusterModule } from '../cluster/cluster.module';
import { LiveFeedService } from './live-feed.service';
import { LiveGateway } from './live.gateway';

@Module({
  imports: [AuthModule, ClusterModule],
  providers: [LiveGateway, LiveFeedService],
})
export class LiveModule {}
