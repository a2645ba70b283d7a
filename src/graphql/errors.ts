/**
 * The deliberate errors of the API and their `extensions.code` (API.md §3). Resolvers and
 * services throw these (or domain errors mapped in `toClientError`); anything else is masked
 * as INTERNAL_ERROR by yoga.ts and logged.
 */
import { GraphQLError } from 'graphql';
import { DuplicateTorrent, TorrentFileMissing, TorrentRejected } from '../torrents/errors.ts';
import { AccountError } from '../users/accounts.ts';
import { RateLimited } from '../ratelimit/limiter.ts';
import { CommunityError } from '../community/errors.ts';
import { RulesError } from '../rules/errors.ts';

export type ErrorCode = 'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_FOUND' | 'BAD_USER_INPUT' | 'RATE_LIMITED' | 'INTERNAL_ERROR';

export const ERROR_CODES: readonly ErrorCode[] = ['UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'RATE_LIMITED', 'INTERNAL_ERROR'];

export class ApiError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extra } });
    this.name = 'ApiError';
  }

  get code(): ErrorCode {
    return this.extensions.code as ErrorCode;
  }
}

export const unauthorized = (message = 'sign in first', extra: Record<string, unknown> = {}) => new ApiError('UNAUTHORIZED', message, extra);
export const forbidden = (message = 'not allowed for your account') => new ApiError('FORBIDDEN', message);
export const notFound = (what: string) => new ApiError('NOT_FOUND', `${what} not found`);
export const badInput = (message: string, extra: Record<string, unknown> = {}) => new ApiError('BAD_USER_INPUT', message, extra);

/** A domain error as the client should see it, or null when it is not a deliberate one. */
export function toClientError(err: unknown): ApiError | null {
  if (err instanceof ApiError) return err;
  if (err instanceof RateLimited) return new ApiError('RATE_LIMITED', err.message, { retryAfter: err.retryAfter });
  if (err instanceof TorrentRejected) return badInput(err.message, { rule: err.rule });
  if (err instanceof TorrentFileMissing) return new ApiError('NOT_FOUND', err.message);
  if (err instanceof DuplicateTorrent) return badInput(err.message, { rule: 'duplicate', existingTorrentId: String(err.existingId) });
  if (err instanceof AccountError) return badInput(err.message);
  if (err instanceof CommunityError || err instanceof RulesError) return new ApiError(err.code, err.message);
  return null;
}
