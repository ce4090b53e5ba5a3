import { z } from 'zod';

/** The LISTEN/NOTIFY channel every hub on one database shares. */
export const HUB_SIGNAL_CHANNEL = 'outpost_hub_signals';

/**
 * What one hub tells the others: "executions of this run are queued" (whoever holds one of its
 * agents dispatches now rather than at its next sweep) and "these executions are to be canceled"
 * (whoever holds their agent sends the cancel), and "these sessions, API tokens or users are signed
 * out" (whoever holds their live sockets cuts them). Small on purpose: NOTIFY payloads stop at 8 KB,
 * and the database stays the truth: a lost signal only delays the work to the next sweep.
 */
/** Sign-out signals name at most this many credentials (and users), for the same reason. */
export const SIGN_OUT_SIGNAL_BATCH = 100;

export const hubSignalSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('dispatch'), runId: z.uuid() }),
  z.object({ kind: z.literal('cancel'), executionIds: z.array(z.uuid()).min(1).max(100) }),
  z.object({
    kind: z.literal('sign-out'),
    credentialIds: z.array(z.uuid()).max(SIGN_OUT_SIGNAL_BATCH),
    userIds: z.array(z.uuid()).max(SIGN_OUT_SIGNAL_BATCH),
  }),
]);
export type HubSignal = z.infer<typeof hubSignalSchema>;

/** Cancel signals carry at most this many ids, to stay well under NOTIFY's payload limit. */
export const CANCEL_SIGNAL_BATCH = 100;
