/**
 * THE route table of the compat layer: one entry per legacy REST route and jsonapi action,
 * each naming the one GraphQL document it runs (compat/documents/, typed by codegen), how the
 * legacy request becomes the document's variables, and how the data becomes the legacy
 * response (compat/shapes/). scripts/check-compat-map.ts checks this table against the
 * documents and compat/README.md.
 */
import { torrentFileHeaders } from '../src/shared/content-disposition.ts';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import {
  CompatAuthLoginDocument,
  CompatFunListDocument,
  CompatFunViewDocument,
  CompatJsonapiLoginDocument,
  CompatJsonapiUserMeDocument,
  CompatSiteInfoDocument,
  CompatSiteNewsDocument,
  CompatTorrentByIdDocument,
  CompatTorrentDownloadDocument,
  CompatTorrentFilesDocument,
  CompatTorrentInfoDocument,
  CompatTorrentMagicDocument,
  CompatTorrentPeersDocument,
  CompatTorrentSearchDocument,
  CompatTorrentsListDocument,
  CompatTorrentThanksDocument,
  CompatUserMeDocument,
  CompatUserStatsDocument,
  type FunSearchField,
  type SortDirection,
  type TorrentSortField,
} from './generated/graphql.ts';
import { arg, clampLimit, idParam, intArg, LegacyInputError, requiredString, searchArg, zeroBasedPage, type LegacyInput } from './input.ts';
import { JSONAPI, type JsonapiErrorMap } from './shapes/errors.ts';
import * as J from './shapes/jsonapi.ts';
import * as R from './shapes/rest.ts';

// ---------------------------------------------------------------- types

export type RestResult = { kind: 'json'; status?: number; body: unknown } | { kind: 'file'; body: Buffer; headers: Record<string, string> };

export interface Pager {
  page: number;
  limit: number;
  count: number;
}

export interface JsonapiResult {
  data: unknown;
  pager?: Pager;
}

interface RouteBase<TData, TVars> {
  /** The document's file under compat/documents/. */
  documentFile: string;
  document: TypedDocumentNode<TData, TVars>;
  /** Legacy request → variables; throws LegacyInputError on bad input (nothing is executed). */
  toVariables(input: LegacyInput): TVars;
}

export interface RestRoute<TData = unknown, TVars = Record<string, unknown>> extends RouteBase<TData, TVars> {
  surface: 'rest';
  method: 'GET' | 'POST';
  /** FastRoute pattern of the path. */
  pattern: string;
  toLegacy(data: TData, vars: TVars): RestResult;
}

export interface JsonapiRoute<TData = unknown, TVars = Record<string, unknown>> extends RouteBase<TData, TVars> {
  surface: 'jsonapi';
  /** GET actions also accept POST; POST-only actions refuse GET with 40001. */
  methods: readonly ('GET' | 'POST')[];
  /** FastRoute pattern of the action. */
  pattern: string;
  /** Requests per minute per user for this action (seed: 10, torrent search 5). */
  perMinute: number;
  /** `limit=<default,max>` of the action (for the README); `page: false` when there is no page. */
  paging?: { default: number; max: number; page?: false };
  toLegacy(data: TData, vars: TVars, input: LegacyInput): JsonapiResult;
  legacyErrors?: JsonapiErrorMap;
}

export type AnyRoute = RestRoute | JsonapiRoute;

// Erases the document's types once the entry has been type-checked against them.
function rest<TData, TVars>(r: RestRoute<TData, TVars>): RestRoute {
  return r as unknown as RestRoute;
}
function jsonapi<TData, TVars>(r: JsonapiRoute<TData, TVars>): JsonapiRoute {
  return r as unknown as JsonapiRoute;
}

// ---------------------------------------------------------------- REST /api (seed opentracker-api.md)

const SORTS: Record<string, TorrentSortField> = { created: 'CREATED', seeders: 'SEEDERS', leechers: 'LEECHERS', size: 'SIZE' };
const ORDERS: Record<string, SortDirection> = { asc: 'ASC', desc: 'DESC' };

function restListVariables(input: LegacyInput) {
  const q = input.query;
  const page = intArg(input, 'page') ?? 1;
  if (page < 1) throw new LegacyInputError('page must be 1 or more');
  const limit = intArg(input, 'limit') ?? 25;
  if (limit < 1) throw new LegacyInputError('limit must be 1 or more');
  const sort = q.get('sort');
  const order = q.get('order');
  if (sort !== null && !Object.hasOwn(SORTS, sort)) throw new LegacyInputError('sort must be one of created, seeders, leechers, size');
  if (order !== null && !Object.hasOwn(ORDERS, order)) throw new LegacyInputError('order must be asc or desc');
  const category = q.get('category') ?? undefined;
  if (category !== undefined && category.length > 64) throw new LegacyInputError('category is too long');
  return {
    page,
    limit: Math.min(limit, 100),
    ...(sort !== null ? { orderBy: SORTS[sort] } : order !== null ? { orderBy: 'CREATED' as const } : {}),
    ...(order !== null ? { direction: ORDERS[order] } : {}),
    ...(category ? { category } : {}),
    ...(searchArg(input) !== undefined ? { search: searchArg(input) } : {}),
  };
}

export const restRoutes: readonly RestRoute[] = [
  rest({
    surface: 'rest',
    method: 'GET',
    pattern: '/api/torrents',
    documentFile: 'rest/torrents-list.query.graphql',
    document: CompatTorrentsListDocument,
    toVariables: restListVariables,
    toLegacy: (data) => ({ kind: 'json', body: R.restTorrentList(data) }),
  }),
  rest({
    surface: 'rest',
    method: 'GET',
    pattern: '/api/torrents/{id:\\d+}',
    documentFile: 'rest/torrent-by-id.query.graphql',
    document: CompatTorrentByIdDocument,
    toVariables: (input) => ({ id: idParam(input) }),
    toLegacy: (data) => ({ kind: 'json', body: R.restTorrentDetail(data) }),
  }),
  rest({
    surface: 'rest',
    method: 'GET',
    pattern: '/api/torrents/{id:\\d+}/download',
    documentFile: 'rest/torrent-download.query.graphql',
    document: CompatTorrentDownloadDocument,
    toVariables: (input) => ({ id: idParam(input) }),
    toLegacy: (data) => {
      const body = Buffer.from(data.torrent.torrentFile, 'base64');
      return {
        kind: 'file',
        body,
        headers: torrentFileHeaders(data.torrent.name, body.length),
      };
    },
  }),
  rest({
    surface: 'rest',
    method: 'GET',
    pattern: '/api/user/me',
    documentFile: 'rest/user-me.query.graphql',
    document: CompatUserMeDocument,
    toVariables: () => ({}),
    toLegacy: (data) => ({ kind: 'json', body: R.restUserMe(data) }),
  }),
  rest({
    surface: 'rest',
    method: 'GET',
    pattern: '/api/user/{id:\\d+}/stats',
    documentFile: 'rest/user-stats.query.graphql',
    document: CompatUserStatsDocument,
    toVariables: (input) => ({ id: idParam(input) }),
    toLegacy: (data) => ({ kind: 'json', body: R.restUserStats(data) }),
  }),
  rest({
    surface: 'rest',
    method: 'POST',
    pattern: '/api/auth/login',
    documentFile: 'rest/auth-login.mutation.graphql',
    document: CompatAuthLoginDocument,
    toVariables: (input) => ({ username: requiredString(input, 'username', 255), password: requiredString(input, 'password', 1024) }),
    toLegacy: (data) => ({ kind: 'json', body: R.restLogin(data) }),
  }),
];

// ---------------------------------------------------------------- jsonapi.php (seed ourbits-jsonapi.md)

const GET_POST = ['GET', 'POST'] as const;
const POST_ONLY = ['POST'] as const;
const FUN_FIELDS: Record<string, FunSearchField> = { title: 'TITLE', body: 'BODY', both: 'BOTH' };
const GIFT_VALUES = [50, 100, 200, 500, 1000];
/** Thanks and magic: GraphQL's BAD_USER_INPUT there is a requirement not met (own torrent, twice, not enough bonus). */
const REQUIREMENT_NOT_MET: JsonapiErrorMap = { BAD_USER_INPUT: JSONAPI.REQUIREMENT };

export const jsonapiRoutes: readonly JsonapiRoute[] = [
  jsonapi({
    surface: 'jsonapi',
    methods: POST_ONLY,
    pattern: 'auth/login',
    perMinute: 10,
    documentFile: 'nexusphp/jsonapi-login.mutation.graphql',
    document: CompatJsonapiLoginDocument,
    toVariables: (input) => ({ username: requiredString(input, 'username', 255), password: requiredString(input, 'password', 1024) }),
    toLegacy: (data) => ({ data: J.jsonapiLogin(data) }),
  }),
  jsonapi({
    surface: 'jsonapi',
    methods: GET_POST,
    pattern: 'torrent/search',
    perMinute: 5,
    paging: { default: 50, max: 100 },
    documentFile: 'nexusphp/torrent-search.query.graphql',
    document: CompatTorrentSearchDocument,
    toVariables: (input) => {
      const search = searchArg(input);
      return { page: zeroBasedPage(input) + 1, limit: clampLimit(input, 50, 100), ...(search !== undefined ? { search } : {}) };
    },
    toLegacy: (data, vars) => ({ data: J.jsonapiTorrentSearch(data, vars.search), pager: { page: vars.page - 1, limit: vars.limit, count: data.torrents.totalCount } }),
  }),
  jsonapi({
    surface: 'jsonapi',
    methods: GET_POST,
    pattern: 'torrent/{id:\\d+}',
    perMinute: 10,
    documentFile: 'nexusphp/torrent-info.query.graphql',
    document: CompatTorrentInfoDocument,
    toVariables: (input) => ({ id: idParam(input) }),
    toLegacy: (data) => ({ data: J.jsonapiTorrentInfo(data) }),
  }),
  jsonapi({
    surface: 'jsonapi',
    methods: GET_POST,
    pattern: 'torrent/{id:\\d+}/files',
    perMinute: 10,
    documentFile: 'nexusphp/torrent-files.query.graphql',
    document: CompatTorrentFilesDocument,
    toVariables: (input) => ({ id: idParam(input) }),
    toLegacy: (data) => ({ data: J.jsonapiTorrentFiles(data) }),
  }),
  jsonapi({
    surface: 'jsonapi',
    methods: GET_POST,
    pattern: 'torrent/{id:\\d+}/peers',
    perMinute: 10,
    documentFile: 'nexusphp/torrent-peers.query.graphql',
    document: CompatTorrentPeersDocument,
    toVariables: (input) => ({ id: idParam(input) }),
    toLegacy: (data) => ({ data: J.jsonapiTorrentPeers(data) }),
  }),
  jsonapi({
    surface: 'jsonapi',
    methods: POST_ONLY,
    pattern: 'torrent/{id:\\d+}/thanks',
    perMinute: 10,
    documentFile: 'nexusphp/torrent-thanks.mutation.graphql',
    document: CompatTorrentThanksDocument,
    toVariables: (input) => ({ torrentId: idParam(input) }),
    toLegacy: (_data, vars) => ({ data: J.jsonapiThanks(vars.torrentId) }),
    legacyErrors: REQUIREMENT_NOT_MET,
  }),
  jsonapi({
    surface: 'jsonapi',
    methods: POST_ONLY,
    pattern: 'torrent/{id:\\d+}/magic',
    perMinute: 10,
    documentFile: 'nexusphp/torrent-magic.mutation.graphql',
    document: CompatTorrentMagicDocument,
    toVariables: (input) => {
      const torrentId = idParam(input);
      const value = arg(input, 'value');
      if (value === undefined || !/^[0-9]{1,5}$/.test(value) || !GIFT_VALUES.includes(Number(value))) throw new LegacyInputError(`value must be one of ${GIFT_VALUES.join(', ')}`);
      return { torrentId, amount: Number(value) };
    },
    toLegacy: (data) => ({ data: J.jsonapiMagic(data) }),
    legacyErrors: REQUIREMENT_NOT_MET,
  }),
  jsonapi({
    surface: 'jsonapi',
    methods: GET_POST,
    pattern: 'user/me',
    perMinute: 10,
    documentFile: 'nexusphp/jsonapi-user-me.query.graphql',
    document: CompatJsonapiUserMeDocument,
    toVariables: () => ({}),
    toLegacy: (data) => ({ data: J.jsonapiUserMe(data) }),
  }),
  jsonapi({
    surface: 'jsonapi',
    methods: GET_POST,
    pattern: 'site/fun/view[/{id:\\d+}]',
    perMinute: 10,
    documentFile: 'nexusphp/fun-view.query.graphql',
    document: CompatFunViewDocument,
    toVariables: (input) => (input.params.id !== undefined ? { id: idParam(input) } : {}),
    toLegacy: (data) => {
      const entry = J.jsonapiFunView(data);
      if (!entry) throw new LegacyInputError('fun entry not found', 'NOT_FOUND');
      return { data: entry };
    },
  }),
  jsonapi({
    surface: 'jsonapi',
    methods: GET_POST,
    pattern: 'site/fun/list',
    perMinute: 10,
    paging: { default: 10, max: 50 },
    documentFile: 'nexusphp/fun-list.query.graphql',
    document: CompatFunListDocument,
    toVariables: (input) => {
      const f = (arg(input, 'field') ?? 'title').toLowerCase();
      const field = FUN_FIELDS[f];
      if (!Object.hasOwn(FUN_FIELDS, f) || field === undefined) throw new LegacyInputError('field must be one of title, body, both');
      const search = searchArg(input);
      return { field, page: zeroBasedPage(input), limit: clampLimit(input, 10, 50), ...(search !== undefined ? { search } : {}) };
    },
    toLegacy: (data, vars) => ({ data: J.jsonapiFunList(data, vars.search ?? undefined), pager: { page: vars.page, limit: vars.limit, count: data.funEntriesPage.totalCount } }),
  }),
  jsonapi({
    surface: 'jsonapi',
    methods: GET_POST,
    pattern: 'site/news',
    perMinute: 10,
    paging: { default: 10, max: 50, page: false },
    documentFile: 'nexusphp/site-news.query.graphql',
    document: CompatSiteNewsDocument,
    toVariables: (input) => ({ first: clampLimit(input, 10, 50) }),
    toLegacy: (data) => ({ data: J.jsonapiNews(data) }),
  }),
  jsonapi({
    surface: 'jsonapi',
    methods: GET_POST,
    pattern: 'site/info',
    perMinute: 10,
    documentFile: 'nexusphp/site-info.query.graphql',
    document: CompatSiteInfoDocument,
    toVariables: () => ({}),
    toLegacy: (data) => ({ data: J.jsonapiSiteInfo(data) }),
  }),
];

export const allRoutes: readonly AnyRoute[] = [...restRoutes, ...jsonapiRoutes];

/** A route's name in the README table: `GET /api/torrents` or `jsonapi.php?action=torrent/search`. */
export function routeLabel(r: AnyRoute): string {
  return r.surface === 'rest' ? `${r.method} ${r.pattern}` : `${r.methods.join('/')} jsonapi.php?action=${r.pattern}`;
}
