import { Global, Module, type DynamicModule } from '@nestjs/common';
import { HUB_CONFIG, type HubConfig } from './hub-config';
import { HUB_SECRETS, type HubSecrets } from './hub-secrets';

/** Config and secrets are loaded once by main.ts, before Nest starts, and provided everywhere. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: HubConfig, secrets: HubSecrets): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: HUB_CONFIG, useValue: config },
        { provide: HUB_SECRETS, useValue: secrets },
      ],
      exports: [HUB_CONFIG, HUB_SECRETS],
    };
  }
}
