/** The feature modules mounted on the server, in matching order (see server/module.ts). */
import { compatModule } from '../../compat/module.ts';
import { dashboardModule } from '../dashboard/module.ts';
import { feedsModule } from '../feeds/module.ts';
import { graphqlWsModule } from '../live/graphql-ws.ts';
import { liveModule } from '../live/live.ts';
import { wsTrackerModule } from '../tracker/ws/ws-tracker.ts';
import { graphqlModule } from '../graphql/module.ts';
import { rulesModule } from '../rules/engine.ts';
import type { ModuleFactory } from './module.ts';

// feeds before graphql: it takes /download/{id} only when the URL carries a passkey.
export const moduleFactories: ModuleFactory[] = [compatModule, feedsModule, graphqlModule, liveModule, wsTrackerModule, graphqlWsModule, dashboardModule, rulesModule];
