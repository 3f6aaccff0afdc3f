// Failures talking to the API server, as one error class with a stable `code`, so callers
// branch on `err.code === 'Conflict'` rather than on HTTP numbers or message text.

export type ApiErrorCode =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'Conflict'
  | 'AlreadyExists'
  | 'Gone'
  | 'Invalid'
  | 'TooManyRequests'
  | 'ServerError'
  | 'Timeout'
  | 'Network'
  | 'Unknown';

/** metav1.Status as the API server sends it with an error. */
export interface StatusBody {
  kind?: 'Status';
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    kind?: string;
    retryAfterSeconds?: number;
    causes?: { type?: string; reason?: string; message?: string; field?: string }[];
  };
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: ApiErrorCode,
    /** HTTP status; 0 when no response arrived. */
    readonly status: number,
    message: string,
    readonly body?: StatusBody,
    /** Seconds the server asked us to wait (Retry-After), if any. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export function codeForStatus(status: number, reason?: string): ApiErrorCode {
  if (status === 409) return reason === 'AlreadyExists' ? 'AlreadyExists' : 'Conflict';
  if (status === 422) return 'Invalid';
  if (status === 504) return 'Timeout';
  const byStatus: Record<number, ApiErrorCode> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    410: 'Gone',
    429: 'TooManyRequests',
  };
  return byStatus[status] ?? (status >= 500 ? 'ServerError' : 'Unknown');
}

/**
 * Turns whatever a request threw (our ApiError, an error carrying an HTTP status in `code`
 * or `statusCode` (a watch's ERROR event), a socket error with `code: 'ECONNREFUSED'`) into
 * an ApiError.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const e = (err ?? {}) as { statusCode?: unknown; code?: unknown; message?: unknown; body?: unknown; type?: unknown; name?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  const status = typeof e.statusCode === 'number' ? e.statusCode : typeof e.code === 'number' ? e.code : 0;
  if (status > 0) {
    const body = typeof e.body === 'object' && e.body !== null ? (e.body as StatusBody) : undefined;
    return new ApiError(codeForStatus(status, body?.reason), status, body?.message ?? message, body);
  }
  if (e.name === 'AbortError' || e.type === 'aborted') return new ApiError('Timeout', 0, message);
  return new ApiError('Network', 0, message);
}

/** Worth retrying as is, after a pause: overload, server trouble, a lost connection. */
export function isRetryable(err: unknown): boolean {
  const c = toApiError(err).code;
  return c === 'TooManyRequests' || c === 'ServerError' || c === 'Timeout' || c === 'Network';
}

export const isConflict = (err: unknown): boolean => toApiError(err).code === 'Conflict';
export const isNotFound = (err: unknown): boolean => toApiError(err).code === 'NotFound';
export const isAlreadyExists = (err: unknown): boolean => toApiError(err).code === 'AlreadyExists';
export const isGone = (err: unknown): boolean => toApiError(err).code === 'Gone';
