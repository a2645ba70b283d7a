/** Small HTTP helpers of the compat layer: bounded body reading, JSON responses. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Legacy bodies are small forms or JSON: 64 KiB is plenty. */
export const MAX_BODY = 64 * 1024;

export class BodyError extends Error {
  override name = 'BodyError';
}

export async function readBody(req: IncomingMessage, max = MAX_BODY): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) {
    req.resume();
    throw new BodyError('request body too large');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      req.resume();
      throw new BodyError('request body too large');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The media type of a request, lower-case, without parameters. */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export function isJsonType(type: string): boolean {
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/** A JSON object body; anything else (array, scalar, bad JSON) → BodyError. */
export function parseJsonObject(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new BodyError('the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BodyError('the body must be a JSON object');
  return value as Record<string, unknown>;
}

export function parseForm(raw: Buffer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) out[k] = v;
  return out;
}

export const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, setCookies: string[] = []): void {
  const text = JSON.stringify(body);
  const all: Record<string, string | string[]> = { ...JSON_HEADERS, 'content-length': String(Buffer.byteLength(text)), ...headers };
  if (setCookies.length > 0) all['set-cookie'] = setCookies;
  res.writeHead(status, all);
  res.end(text);
}
