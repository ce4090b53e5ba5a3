import { Controller, Get, Header, Headers, Param, Res, StreamableFile } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DownloadsService } from './downloads.service';

/** Open routes: a host that installs the agent has no user token, only an enrollment token. */
@ApiTags('downloads')
@Controller()
export class DownloadsController {
  constructor(private readonly downloads: DownloadsService) {}

  @Get('install.sh')
  @Header('Content-Type', 'text/x-shellscript; charset=utf-8')
  installSh(): Promise<string> {
    return this.downloads.installScript('install.sh');
  }

  @Get('install.ps1')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  installPs1(): Promise<string> {
    return this.downloads.installScript('install.ps1');
  }

  @Get('downloads/agent/:file')
  async agent(
    @Param('file') file: string,
    @Headers('accept-encoding') acceptEncoding: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile | string> {
    const download = await this.downloads.agentFile(file, /\bgzip\b/.test(acceptEncoding ?? ''));
    if ('checksum' in download) {
      res.type('text/plain');
      return download.checksum;
    }
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Disposition', `attachment; filename="${download.fileName}"`);
    res.setHeader('X-Checksum-Sha256', download.sha256);
    res.setHeader('Vary', 'Accept-Encoding');
    if (download.encoding === 'gzip') res.setHeader('Content-Encoding', 'gzip');
    return new StreamableFile(download.open(), { length: download.size });
  }
}
