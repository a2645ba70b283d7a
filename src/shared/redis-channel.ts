/**
 * Subscribing to one Redis channel whose messages are JSON: each message is parsed and
 * validated before use; a malformed one is logged and dropped (another process, another
 * version, or anyone with access to Redis may publish on the channel).
 */
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { Logger } from './logger.ts';

/** `sub` is a connection used for this channel only. Resolves once the subscription is live. */
export function subscribeJson<S extends z.ZodTypeAny>(sub: Redis, channel: string, schema: S, logger: Logger, what: string, onMessage: (message: z.infer<S>) => void): Promise<void> {
  sub.on('message', (_channel: string, raw: string) => {
    let parsed;
    try {
      parsed = schema.safeParse(JSON.parse(raw));
    } catch {
      parsed = null;
    }
    if (!parsed?.success) {
      logger.warn({ channel }, `dropped a malformed ${what} from Redis`);
      return;
    }
    onMessage(parsed.data);
  });
  return sub.subscribe(channel).then(() => undefined);
}
