import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppError, type ErrorCode, httpStatusOf } from './app-error';

/** Nest's own HTTP exceptions (unknown route, body parser) expressed in our codes. */
function codeForHttpStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'VALIDATION_ERROR';
    case 401:
      return 'UNAUTHORIZED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 409:
      return 'CONFLICT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'RATE_LIMITED';
    case 503:
      return 'UNAVAILABLE';
    default:
      return status >= 500 ? 'INTERNAL' : 'VALIDATION_ERROR';
  }
}

/** Every error leaves as `{"error": {code, message, details?, requestId}}` (DESIGN.md §5). */
@Catch()
export class ErrorEnvelopeFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request & { id?: string }>();
    const response = http.getResponse<Response>();
    const requestId = String(request.id ?? '');

    let code: ErrorCode;
    let message: string;
    let details: Record<string, unknown> | undefined;
    if (exception instanceof AppError) {
      ({ code, message, details } = exception);
    } else if (exception instanceof HttpException) {
      code = codeForHttpStatus(exception.getStatus());
      const body = exception.getResponse();
      message = typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? exception.message);
      if (exception.getStatus() === 400 && /JSON/i.test(message)) message = `Request body is not valid JSON: ${message}`;
    } else if (isBodyParserError(exception)) {
      code = codeForHttpStatus(exception.status);
      message = exception.type === 'entity.too.large' ? 'Request body is too large' : `Request body is not valid: ${exception.message}`;
    } else {
      code = 'INTERNAL';
      message = 'Internal error';
      this.logger.error({ requestId, err: exception }, 'unexpected error');
    }
    const status = httpStatusOf(code);
    if (response.headersSent) return;
    if (typeof details?.retryAfterSeconds === 'number') response.setHeader('Retry-After', String(details.retryAfterSeconds));
    response.status(status).json({ error: { code, message, ...(details ? { details } : {}), requestId } });
  }
}

function isBodyParserError(e: unknown): e is { status: number; type: string; message: string } {
  return typeof e === 'object' && e !== null && typeof (e as { status?: unknown }).status === 'number' && typeof (e as { type?: unknown }).type === 'string';
}
