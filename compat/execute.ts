/** How compat runs its one GraphQL operation per request (injectable so tests can count). */
import type { IncomingMessage } from 'node:http';
import type { DocumentNode } from 'graphql';
import type { AppContext } from '../src/app-context.ts';
import { executeOperation, type ExecuteOptions, type ExecuteResult } from '../src/graphql/execute.ts';

export type CompatExecutor = (app: AppContext, document: DocumentNode, variables: Record<string, unknown>, options: ExecuteOptions) => Promise<ExecuteResult<unknown>>;

export const defaultExecutor: CompatExecutor = (app, document, variables, options) => executeOperation(app, document, variables, options);

/** The caller's credentials and address, passed through unchanged. */
export function callerOptions(app: AppContext, req: IncomingMessage): ExecuteOptions {
  return { authorization: req.headers.authorization ?? null, cookie: req.headers.cookie ?? null, clientIp: app.clientIp.text(req) };
}
