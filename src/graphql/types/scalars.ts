/**
 * Scalars: BigInt (64-bit counters as strings of decimal digits, never lossy floats),
 * DateTime (ISO 8601 in UTC) and File (multipart uploads, parsed by Yoga).
 */
import { GraphQLError, Kind } from 'graphql';
import { builder } from '../builder.ts';

const DIGITS = /^-?[0-9]{1,20}$/;

function parseBigInt(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && DIGITS.test(value)) return BigInt(value);
  throw new GraphQLError('BigInt must be a string of decimal digits', { extensions: { code: 'BAD_USER_INPUT' } });
}

builder.scalarType('BigInt', {
  description: 'A 64-bit integer as a string of decimal digits (byte counters).',
  serialize: (value) => (typeof value === 'bigint' ? value.toString() : String(BigInt(value))),
  parseValue: parseBigInt,
  parseLiteral: (ast) => {
    if (ast.kind === Kind.STRING || ast.kind === Kind.INT) return parseBigInt(ast.value);
    throw new GraphQLError('BigInt must be a string of decimal digits', { extensions: { code: 'BAD_USER_INPUT' } });
  },
});

function parseDate(value: unknown): Date {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new GraphQLError('DateTime must be an ISO 8601 date-time string', { extensions: { code: 'BAD_USER_INPUT' } });
}

builder.scalarType('DateTime', {
  description: 'An ISO 8601 date-time in UTC.',
  serialize: (value) => value.toISOString(),
  parseValue: parseDate,
  parseLiteral: (ast) => {
    if (ast.kind === Kind.STRING) return parseDate(ast.value);
    throw new GraphQLError('DateTime must be an ISO 8601 date-time string', { extensions: { code: 'BAD_USER_INPUT' } });
  },
});

builder.scalarType('File', {
  description: 'A file of a GraphQL multipart request (input only).',
  serialize: () => {
    throw new GraphQLError('File is an input-only scalar');
  },
  parseValue: (value) => {
    // Yoga's multipart parser gives a File of @whatwg-node/fetch, not always the global class.
    if (typeof value === 'object' && value !== null && typeof (value as File).arrayBuffer === 'function' && typeof (value as File).name === 'string') return value as File;
    throw new GraphQLError('expected a file part of a multipart request', { extensions: { code: 'BAD_USER_INPUT' } });
  },
});
