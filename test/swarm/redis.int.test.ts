import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
import { RedisSwarmStore } from '../../src/swarm/stores/redis.ts';
import { describeSwarmStore } from './swarm-store.contract.ts';

const url = process.env.REDIS_URL;

describe.skipIf(!url)('Redis swarm store (REDIS_URL)', () => {
  describeSwarmStore('redis', (peerTtl) => {
    const prefix = `ot-test-${randomBytes(4).toString('hex')}`;
    const store = new RedisSwarmStore({ url: url as string, peerTtl, prefix });
    const close = store.close.bind(store);
    store.close = async () => {
      const keys = await store.redis.keys(`${prefix}*`);
      if (keys.length > 0) await store.redis.del(...keys);
      await close();
    };
    return Promise.resolve(store);
  });
});
