import { MemorySwarmStore } from '../../src/swarm/stores/memory.ts';
import { describeSwarmStore } from './swarm-store.contract.ts';

describeSwarmStore('memory', (peerTtl) => Promise.resolve(new MemorySwarmStore({ peerTtl })));
