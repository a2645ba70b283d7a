import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aPeerId, aTorrent, aUser } from '../support/factories.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { announce } from '../support/tracker-client.ts';

describe('operator endpoints', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ METRICS_TOKEN: 'operator-token-0123456789' }, { timers: false });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('GET /healthz answers ok with the backends in use', async () => {
    const res = await fetch(`${t.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', database: t.db.kind, swarmStore: 'memory' });
  });

  it('GET /metrics needs the operator token when one is configured', async () => {
    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: 'metrics need the operator token' } });
  });

  it('GET /metrics reports announces by result, peers, swarms, flush lag and HTTP latency in Prometheus text', async () => {
    const u = await aUser(t.db);
    const tor = await aTorrent(t.db, u.id);
    await announce(t.url, { passkey: u.passkey, infoHash: tor.hashBytes, peerId: aPeerId(), left: 0 });
    await announce(t.url, { passkey: 'a'.repeat(32), infoHash: tor.hashBytes, peerId: aPeerId() });
    const res = await fetch(`${t.url}/metrics`, { headers: { authorization: 'Bearer operator-token-0123456789' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^tracker_announces_total\{result="ok"\} [1-9]/m);
    expect(text).toMatch(/^tracker_announces_total\{result="failure"\} [1-9]/m);
    expect(text).toMatch(/^tracker_peers [1-9]/m);
    expect(text).toMatch(/^tracker_swarms [1-9]/m);
    expect(text).toMatch(/^accounting_flush_lag_seconds /m);
    expect(text).toMatch(/^http_request_duration_seconds_count\{route="announce"\} [1-9]/m);
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{le="0.005",route="announce"\} \d+/m);
  });

  it('answers unknown paths with a JSON 404', async () => {
    const res = await fetch(`${t.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no route for GET /nope' } });
  });

  it('answers a malformed HTTP request with 400 and keeps serving', async () => {
    const { connect } = await import('node:net');
    const reply = await new Promise<string>((resolve) => {
      const s = connect(t.port, '127.0.0.1', () => s.write('GARBAGE\r\n\r\n'));
      let out = '';
      s.on('data', (d) => (out += d.toString()));
      s.on('close', () => resolve(out));
    });
    expect(reply).toMatch(/^HTTP\/1.1 400/);
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });
});
