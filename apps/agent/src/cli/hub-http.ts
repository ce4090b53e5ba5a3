/**
 * Why a fetch to the hub failed, in a few words: undici hides the useful part ("connect
 * ECONNREFUSED 127.0.0.1:8080") in `cause` behind a bare "fetch failed".
 */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs / 1_000} s`;
  }
  if (error instanceof Error && error.cause instanceof Error) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}
