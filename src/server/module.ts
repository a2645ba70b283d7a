/**
 * What a feature (GraphQL, compat, WebSocket tracker, dashboard) plugs into the one HTTP
 * server with. The tracker routes are matched before any module; modules are tried in the
 * order of src/server/modules.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AppContext } from '../app-context.ts';

export interface ServerModule {
  name: string;
  /** Handles the request and returns true, or returns false to pass it on. */
  handle?(req: IncomingMessage, res: ServerResponse, path: string): boolean;
  /** Takes a WebSocket upgrade and returns true, or returns false to pass it on. */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer, path: string): boolean;
  /** Stops accepting work and releases resources; runs before the database closes. */
  close?(): Promise<void>;
}

export type ModuleFactory = (ctx: AppContext) => ServerModule | Promise<ServerModule>;
