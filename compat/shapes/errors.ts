/**
 * GraphQL errors → legacy errors (pure). One GraphQL error is chosen per response (rate limits
 * first: nothing ran; then authentication, authorization, existence, input, internal), and
 * mapped to the REST `{"error":{"code","message"}}` with its HTTP status, or to a jsonapi
 * `errorCode`.
 */
import type { GraphQLFormattedError } from 'graphql';

export type ApiCode = 'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_FOUND' | 'BAD_USER_INPUT' | 'RATE_LIMITED' | 'INTERNAL_ERROR';

export interface PickedError {
  code: ApiCode;
  message: string;
  /** UNAUTHORIZED: why presented credentials were refused (ACCOUNT_INACTIVE, REVOKED_TOKEN, ...). */
  reason: string | null;
  /** RATE_LIMITED: whole seconds. */
  retryAfter: number | null;
}

const PRIORITY: ApiCode[] = ['RATE_LIMITED', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'INTERNAL_ERROR'];

function codeOf(e: GraphQLFormattedError): ApiCode {
  const c = e.extensions?.code;
  return typeof c === 'string' && (PRIORITY as string[]).includes(c) ? (c as ApiCode) : 'INTERNAL_ERROR';
}

/** The error a legacy client is told about, or null when there is none. */
export function pickError(errors: readonly GraphQLFormattedError[]): PickedError | null {
  if (errors.length === 0) return null;
  const sorted = [...errors].sort((a, b) => PRIORITY.indexOf(codeOf(a)) - PRIORITY.indexOf(codeOf(b)));
  const e = sorted[0] as GraphQLFormattedError;
  const code = codeOf(e);
  const reason = e.extensions?.reason;
  const retry = e.extensions?.retryAfter;
  return {
    code,
    message: code === 'INTERNAL_ERROR' ? 'Unexpected error.' : e.message,
    reason: typeof reason === 'string' ? reason : null,
    retryAfter: typeof retry === 'number' && Number.isFinite(retry) ? Math.max(1, Math.ceil(retry)) : code === 'RATE_LIMITED' ? 60 : null,
  };
}

// ---------------------------------------------------------------- REST (seed opentracker-api.md)

export const REST_STATUS: Record<ApiCode, number> = {
  BAD_USER_INPUT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
};

/** The seed's message for 429. */
export const REST_RATE_LIMITED_MESSAGE = 'Too many requests. Please try again later.';

export interface RestError {
  status: number;
  headers: Record<string, string>;
  body: { error: { code: ApiCode; message: string } };
}

export function restError(code: ApiCode, message: string, retryAfter: number | null = null): RestError {
  const headers: Record<string, string> = {};
  if (code === 'RATE_LIMITED') headers['retry-after'] = String(retryAfter ?? 60);
  if (code === 'UNAUTHORIZED') headers['www-authenticate'] = 'Bearer';
  return { status: REST_STATUS[code], headers, body: { error: { code, message: code === 'RATE_LIMITED' ? REST_RATE_LIMITED_MESSAGE : message } } };
}

// ---------------------------------------------------------------- jsonapi (seed ourbits-jsonapi.md §99)

export const JSONAPI = {
  BAD_REQUEST: 40001,
  NOT_FOUND: 40002,
  REQUIREMENT: 40003,
  NO_CREDENTIALS: 40101,
  ACCOUNT: 40102,
  RATE_LIMITED: 42901,
  OTHER: 99999,
} as const;

/** Per-route overrides of the GraphQL code → jsonapi code mapping. */
export type JsonapiErrorMap = Partial<Record<ApiCode, number>>;

export function jsonapiCode(e: PickedError, overrides: JsonapiErrorMap = {}): number {
  const o = overrides[e.code];
  if (o !== undefined) return o;
  switch (e.code) {
    case 'UNAUTHORIZED':
      return e.reason === 'ACCOUNT_INACTIVE' ? JSONAPI.ACCOUNT : JSONAPI.NO_CREDENTIALS;
    case 'FORBIDDEN':
      return JSONAPI.REQUIREMENT;
    case 'NOT_FOUND':
      return JSONAPI.NOT_FOUND;
    case 'BAD_USER_INPUT':
      return JSONAPI.BAD_REQUEST;
    case 'RATE_LIMITED':
      return JSONAPI.RATE_LIMITED;
    default:
      return JSONAPI.OTHER;
  }
}

/** HTTP status of a jsonapi failure: the code's first three digits (400, 401, 429); 499xx → 400; 99999 → 500. */
export function jsonapiStatus(errorCode: number): number {
  const head = Math.floor(errorCode / 100);
  if (head === 400 || head === 401 || head === 429) return head;
  if (head === 499) return 400;
  return 500;
}
