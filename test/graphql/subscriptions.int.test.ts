/** `torrentChanged` over GraphQL SSE (Yoga's built-in transport; graphql-ws is tested in test/live). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SetTorrentPromotionDocument } from '../generated/graphql.ts';
import { aTorrent } from '../support/factories.ts';
import type { TestApp } from '../support/test-app.ts';
import { aMember, gql, startGraphQLApp, type Member } from './support.ts';

let t: TestApp;
let mod: Member;

beforeAll(async () => {
  t = await startGraphQLApp();
  mod = await aMember(t, { role: 'MODERATOR' });
});
afterAll(async () => {
  await t.stop();
});

describe('torrentChanged', () => {
  it('announces a torrent id when a moderator changes its promotion', async () => {
    const torrent = await aTorrent(t.db, mod.id);
    const controller = new AbortController();
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${mod.token}` },
      body: JSON.stringify({ query: `subscription { torrentChanged(id: "${torrent.id}") }` }),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    // Give the subscription a moment to attach before publishing.
    await new Promise((r) => setTimeout(r, 200));
    await gql(t, SetTorrentPromotionDocument, { id: String(torrent.id), promotion: 'FREE' }, { token: mod.token });
    let text = '';
    const deadline = Date.now() + 10_000;
    while (!text.includes('torrentChanged') && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    controller.abort();
    expect(text).toContain(`{"data":{"torrentChanged":"${torrent.id}"}}`);
  });

  it('refuses anonymous subscribers', async () => {
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { torrentChanged }' }),
      signal: AbortSignal.timeout(10_000),
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('UNAUTHORIZED')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    await reader.cancel();
    expect(text).toContain('UNAUTHORIZED');
  });
});
