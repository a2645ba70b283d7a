/**
 * Subscribing to one Redis channel: each message is decoded and validated before use; a
 * malformed one is logged and dropped (another process, another version, or anyone with access
 * to Redis may publish on the channel).
 */
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { Logger } from './logger.ts';

/**
 * `sub` is a connection used for this channel only. `decode` returns the message, or null for a
 * malformed one. Resolves once the subscription is live.
 */
export function subscribeChannel<T>(sub: Redis, channel: string, decode: (raw: Buffer) => T | null, logger: Logger, what: string, onMessage: (message: T) => void): Promise<void> {
  sub.on('messageBuffer', (_channel: Buffer, raw: Buffer) => {
    const message = decode(raw);
    if (message === null) {
      logger.warn({ channel }, `dropped a malformed ${what} from Redis`);
      return;
    }
    onMessage(message);
  });
  return sub.subscribe(channel).then(() => undefined);
}

/** `subscribeChannel` for messages that are JSON, validated by `schema`. */
export function subscribeJson<S extends z.ZodTypeAny>(sub: Redis, channel: string, schema: S, logger: Logger, what: string, onMessage: (message: z.infer<S>) => void): Promise<void> {
  const decode = (raw: Buffer): { value: z.infer<S> } | null => {
    try {
      const parsed = schema.safeParse(JSON.parse(raw.toString('utf8')));
      return parsed.success ? { value: parsed.data } : null;
    } catch {
      return null;
    }
  };
  return subscribeChannel(sub, channel, decode, logger, what, (m) => onMessage(m.value));
}
