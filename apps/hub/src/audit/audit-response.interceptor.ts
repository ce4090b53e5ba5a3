import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { type Observable, tap } from 'rxjs';
import { routeKeyOf } from '../common/http/route-key';
import type { AuditedRequest } from './audit-recorder.middleware';
import { AUDITED_ACTIONS } from './audited-actions';

/** Keeps the id a create answered with (AuditedAction.target `{response}`), and nothing else of the answer. */
@Injectable()
export class AuditResponseInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<AuditedRequest>();
    const key = routeKeyOf(req);
    const target = key === undefined ? undefined : AUDITED_ACTIONS[key]?.target;
    if (target === undefined || target === 'self' || !('response' in target)) return next.handle();
    return next.handle().pipe(
      tap((result: unknown) => {
        const id = typeof result === 'object' && result !== null ? (result as Record<string, unknown>)[target.response] : undefined;
        if (typeof id === 'string') req.auditResponseId = id;
      }),
    );
  }
}
