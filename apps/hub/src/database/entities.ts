import { ApiToken } from '../auth/api-token.entity';
import { RefreshToken } from '../auth/refresh-token.entity';
import { User } from '../auth/user.entity';
import { UserSession } from '../auth/user-session.entity';
import { EnrollmentToken } from '../enrollment/enrollment-token.entity';
import { Agent } from '../agents/agent.entity';
import { Run } from '../executions/run.entity';
import { Execution } from '../executions/execution.entity';
import { ExecutionOutputChunk } from '../executions/execution-output.entity';
import { Job } from '../jobs/job.entity';
import { AuditEvent } from '../audit/audit-event.entity';

export const ENTITIES = [User, EnrollmentToken, Agent, Run, Execution, ExecutionOutputChunk, Job, AuditEvent, UserSession, RefreshToken, ApiToken];
