export interface FieldError {
  field: string;
  message: string;
}

/** The hub's error envelope `{"error":{code,message,details,requestId}}`, as something to show in words. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldError[] = [],
    readonly requestId?: string,
  ) {
    super(message);
  }

  static async from(response: Response): Promise<ApiError> {
    const text = await response.text().catch(() => '');
    try {
      const { error } = JSON.parse(text) as {
        error: { code: string; message: string; details?: { fields?: FieldError[] }; requestId?: string };
      };
      return new ApiError(response.status, error.code, error.message, error.details?.fields ?? [], error.requestId);
    } catch {
      return new ApiError(response.status, `HTTP_${response.status}`, `The hub answered ${response.status} ${response.statusText}`.trim());
    }
  }
}

/** One readable sentence (plus the bad fields) for any error a request can end with. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = error.fields.map((f) => `${f.field}: ${f.message}`).join('; ');
    return fields ? `${error.message} (${fields})` : error.message;
  }
  if (error instanceof TypeError) return 'The hub cannot be reached. Check your connection and try again.';
  return error instanceof Error ? error.message : String(error);
}
