/**
 * Structured logging (pino). Credentials never reach a log line: authorization and cookie
 * headers and any `passkey` field are redacted, and request paths are logged through
 * `redactPath` so `/announce/<passkey>` and `?passkey=` never appear.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'passkey', '*.passkey', 'token', '*.token', 'password', '*.password'],
        censor: '<redacted>',
      },
    },
    destination,
  );
}

const PASSKEY_IN_PATH = /\/[0-9a-fA-F]{32}(?=\/|$|\?)/g;
const PASSKEY_IN_QUERY = /([?&](?:passkey|authkey|token)=)[^&]*/gi;

/** A request URL fit for logs: passkeys and tokens replaced by `<redacted>`. */
export function redactPath(url: string): string {
  return url.replace(PASSKEY_IN_PATH, '/<redacted>').replace(PASSKEY_IN_QUERY, '$1<redacted>');
}
