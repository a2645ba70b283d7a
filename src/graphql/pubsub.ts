/**
 * Typed publish/subscribe topics for GraphQL subscriptions, on Yoga's createPubSub. In-memory
 * by default; pass a Redis event target (`@graphql-yoga/redis-event-target`) to share topics
 * between processes without touching publishers or subscribers. Add topics to `PubSubTopics`
 * (a type alias, so it satisfies Yoga's index-signature constraint).
 */
import { createPubSub, type PubSub, type PubSubEventTarget } from 'graphql-yoga';

export type PubSubTopics = {
  /** A torrent was uploaded, edited, promoted or deleted. */
  'torrent:changed': [torrentId: number];
  /** A user's account changed (role, status, passkey). */
  'user:changed': [userId: number];
};

export type GraphQLPubSub = PubSub<PubSubTopics>;

export function createGraphQLPubSub(eventTarget?: PubSubEventTarget<PubSubTopics>): GraphQLPubSub {
  return createPubSub<PubSubTopics>(eventTarget ? { eventTarget } : {});
}
