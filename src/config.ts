/**
 * Configuration: the only reader of `process.env`.
 *
 * Every variable is declared once below with its description, parsed and validated at start;
 * a bad value stops the process with one line per offending variable. Unknown variables that
 * use one of our prefixes are rejected too, so a typo never silently falls back to a default.
 * `npm start -- --print-config` prints the effective configuration with secrets redacted.
 */
import { join, resolve } from 'node:path';
import { isIP } from 'node:net';
import { z } from 'zod';
import { fileJwtSecret, randomSecret } from './auth/site-secret.ts';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

function cidrList(value: string): boolean {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .every((entry) => {
      if (entry === 'loopback' || entry === 'linklocal' || entry === 'uniquelocal') return true;
      const [addr, bits] = entry.split('/');
      if (!addr || isIP(addr) === 0) return false;
      if (bits === undefined) return true;
      const n = Number(bits);
      return Number.isInteger(n) && n >= 0 && n <= (isIP(addr) === 4 ? 32 : 128);
    });
}

const ROLES = ['USER', 'UPLOADER', 'MODERATOR', 'ADMIN'] as const;
type RoleName = (typeof ROLES)[number];

function roleList(value: string): boolean {
  return splitList(value).every((r) => (ROLES as readonly string[]).includes(r));
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Gazelle's ratio rules (OPS rules page): from GiB downloaded, the required ratio with nothing / everything seeded. */
const GAZELLE_RATIO_TABLE = '5:0.15:0,10:0.2:0,20:0.3:0.05,30:0.4:0.1,40:0.5:0.2,50:0.6:0.3,60:0.6:0.4,80:0.6:0.5,100:0.6:0.6';

export interface RatioBracket {
  /** Downloaded bytes from which the bracket applies. */
  fromBytes: number;
  max: number;
  min: number;
}

function parseRatioTable(value: string): RatioBracket[] | null {
  const out: RatioBracket[] = [];
  for (const part of splitList(value)) {
    const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) return null;
    const [gib, max, min] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (min > max || (out.length > 0 && gib * 2 ** 30 <= (out[out.length - 1] as RatioBracket).fromBytes)) return null;
    out.push({ fromBytes: gib * 2 ** 30, max, min });
  }
  return out;
}

export interface UploadOffer {
  bytes: number;
  price: number;
}

function parseOffers(value: string): UploadOffer[] | null {
  const out: UploadOffer[] = [];
  if (value.trim() === 'none') return out;
  for (const part of splitList(value)) {
    const m = /^(\d{1,6}):(\d+(?:\.\d+)?)$/.exec(part);
    if (!m || Number(m[1]) === 0 || Number(m[2]) === 0) return null;
    out.push({ bytes: Number(m[1]) * 2 ** 30, price: Number(m[2]) });
  }
  return out;
}

/** Site rules (src/rules): hit-and-run, ratio watch, the bonus shop and the seeding bonus formula. */
export interface RulesConfig {
  tickSeconds: number;
  hnr: {
    enabled: boolean;
    triggerFraction: number;
    minSeedSeconds: number;
    ratioExempt: number;
    prewarnSeconds: number;
    graceSeconds: number;
    recoverable: boolean;
    expireSeconds: number;
    maxUnreached: number;
    exemptRoles: RoleName[];
    pardonPrice: number;
  };
  ratioWatch: { enabled: boolean; seconds: number; gambleBytes: number; table: RatioBracket[]; exemptRoles: RoleName[] };
  shop: { uploadOffers: UploadOffer[]; invitePrice: number; freeleechPrice: number; freeleechHours: number };
  bonus:
    | { formula: 'flat' }
    | { formula: 'nexus'; tickSeconds: number; b0: number; l: number; t0Weeks: number; n0: number; perSeed: number; maxSeed: number };
}

function rulesConfig(e: z.infer<typeof envSchema>): RulesConfig {
  return {
    tickSeconds: e.RULES_TICK_SECONDS,
    hnr: {
      enabled: e.HNR_ENABLED,
      triggerFraction: e.HNR_TRIGGER_FRACTION,
      minSeedSeconds: e.HNR_MIN_SEED_SECONDS,
      ratioExempt: e.HNR_RATIO_EXEMPT,
      prewarnSeconds: e.HNR_PREWARN_SECONDS,
      graceSeconds: e.HNR_GRACE_SECONDS,
      recoverable: e.HNR_RECOVERABLE,
      expireSeconds: e.HNR_EXPIRE_SECONDS,
      maxUnreached: e.HNR_MAX_UNREACHED,
      exemptRoles: splitList(e.HNR_EXEMPT_ROLES) as RoleName[],
      pardonPrice: e.HNR_PARDON_PRICE,
    },
    ratioWatch: {
      enabled: e.RATIO_WATCH_ENABLED,
      seconds: e.RATIO_WATCH_SECONDS,
      gambleBytes: e.RATIO_WATCH_GAMBLE_BYTES,
      table: parseRatioTable(e.RATIO_WATCH_TABLE) as RatioBracket[],
      exemptRoles: splitList(e.RATIO_WATCH_EXEMPT_ROLES) as RoleName[],
    },
    shop: { uploadOffers: parseOffers(e.SHOP_UPLOAD_OFFERS) as UploadOffer[], invitePrice: e.SHOP_INVITE_PRICE, freeleechPrice: e.SHOP_FREELEECH_PRICE, freeleechHours: e.SHOP_FREELEECH_HOURS },
    bonus:
      e.BONUS_FORMULA === 'flat'
        ? { formula: 'flat' }
        : { formula: 'nexus', tickSeconds: e.BONUS_TICK_SECONDS, b0: e.BONUS_NEXUS_B0, l: e.BONUS_NEXUS_L, t0Weeks: e.BONUS_NEXUS_T0_WEEKS, n0: e.BONUS_NEXUS_N0, perSeed: e.BONUS_NEXUS_PER_SEED, maxSeed: e.BONUS_NEXUS_MAX_SEED },
  };
}

/** The environment variables, each described. Keys are the variable names. */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development').describe('Runtime mode: production hides GraphiQL and refuses weak secrets'),
  HOST: z.string().optional().describe('Address the HTTP server binds to; unset = both IPv4 and IPv6 ([::] with IPv6-only off; 0.0.0.0 where the machine has no IPv6)'),
  PORT: int(0, 65535).default(8080).describe('Port of the one HTTP server (tracker, GraphQL, compat, metrics); 0 picks a free port'),
  PUBLIC_URL: z.url().optional().describe('Base URL users reach the site at; announce URLs in downloaded .torrent files use it (default http://localhost:PORT)'),
  DATA_DIR: z.string().default('./data').describe('Directory for the embedded database and its generated JWT secret'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL').optional().describe('PostgreSQL connection URL; unset = embedded PGlite under DATA_DIR'),
  PGLITE_THREAD: z.enum(['worker', 'main']).default('worker').describe('Where the embedded database runs: worker = its own thread, off the HTTP event loop; main = the server thread (debugging only: SQL then stalls every request)'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').optional().describe('Redis URL; set = shared swarm store, accounting, rate limits and pub/sub (several processes)'),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).default('ot').describe('Prefix of every Redis key, so several sites (or test runs) can share one Redis'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Minimum log level'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional().describe('HMAC secret for session tokens (>= 32 chars); unset = generated once and kept in the database with DATABASE_URL (shared by every process), else in DATA_DIR/jwt-secret'),
  JWT_TTL_SECONDS: int(60, 90 * 86400).default(7 * 86400).describe('Lifetime of a session token in seconds'),
  AUTH_COOKIE_NAME: z.string().regex(/^[A-Za-z0-9_-]+$/).default('ourbits_jwt').describe('Name of the session cookie (legacy jsonapi clients expect ourbits_jwt)'),
  TRUST_PROXY: z.string().default('').refine(cidrList, 'must be a comma-separated list of IPs or CIDRs').describe('Proxies whose X-Forwarded-For is trusted (comma-separated IPs/CIDRs); empty = use the socket address'),
  METRICS_TOKEN: z.string().min(16).optional().describe('If set, GET /metrics requires "Authorization: Bearer <token>"'),
  TRACKER_ANNOUNCE_INTERVAL: int(60, 86400).default(1800).describe('Announce interval sent to clients, seconds'),
  TRACKER_MIN_INTERVAL: int(10, 86400).default(900).describe('Minimum announce interval sent to clients, seconds'),
  TRACKER_PEER_GRACE: int(0, 86400).default(600).describe('Seconds past the interval before a silent peer expires'),
  TRACKER_NUMWANT_DEFAULT: int(0, 1000).default(50).describe('Peers returned when the client sends no numwant'),
  TRACKER_NUMWANT_MAX: int(1, 1000).default(200).describe('Upper bound on numwant'),
  TRACKER_ANNOUNCE_RATE_LIMIT: int(1, 100000).default(200).describe('Announces and scrapes per minute per passkey before HTTP 429'),
  TRACKER_SCRAPE_MAX_HASHES: int(1, 1000).default(64).describe('Most info_hash values one scrape may ask for'),
  TRACKER_MAX_UPLOAD_RATE: int(0, 1e12).default(1_250_000_000).describe('Most upload, bytes per second since the previous announce, one peer session is credited (default 10 Gbit/s); more is capped and counted as suspicious; 0 = no cap'),
  TRACKER_REVOKE_LEECH_RATE: int(0, 1e13).default(12_500_000_000).describe('Reported upload, bytes per second, that no real link carries (default 100 Gbit/s): the user loses download privileges until staff restore them; 0 = never'),
  TRACKER_ALLOW_IP_PARAM: bool.default(false).describe('Honour the ip/ipv4/ipv6 announce parameters (public addresses only)'),
  TRACKER_ANNOUNCE_ALIASES: z.string().default('/announce.php').describe('Extra comma-separated paths served as announce (legacy URLs); /announce and /announce/{passkey} always are'),
  ACCOUNTING_FLUSH_INTERVAL_MS: int(100, 600000).default(5000).describe('How often transfer accounting is written to the database, milliseconds'),
  BONUS_PER_SEED_HOUR: z.coerce.number().min(0).max(1e6).default(1).describe('Bonus points per hour of seeding one torrent (BONUS_FORMULA=flat; ignored with nexus)'),
  BONUS_GIFT_TAX: z.coerce.number().min(0).max(1).default(0.1).describe('Share of a bonus gift withheld as tax (0..1); the uploader receives the rest'),
  FEED_RATE_LIMIT: int(1, 100000).default(60).describe('RSS, Torznab and passkey .torrent requests per minute per passkey (or per address for unknown keys) before HTTP 429'),
  FEED_TITLE: z.string().min(1).max(100).optional().describe('Site name in the RSS and Torznab feeds (default: the PUBLIC_URL host)'),
  BONUS_FORMULA: z.enum(['flat', 'nexus']).default('flat').describe('Seeding bonus: flat = BONUS_PER_SEED_HOUR per torrent, accrued with seeding time; nexus = NexusPHP\'s formula (torrent age, size, seeders; BONUS_NEXUS_*) paid every BONUS_TICK_SECONDS for the torrents seeded then'),
  BONUS_TICK_SECONDS: int(60, 86400).default(3600).describe('With BONUS_FORMULA=nexus: how often the seeding bonus is paid, seconds'),
  BONUS_NEXUS_B0: z.coerce.number().min(0).max(1e6).default(100).describe('NexusPHP bonus: most points per hour from the size/age/seeders term'),
  BONUS_NEXUS_L: z.coerce.number().positive().max(1e9).default(300).describe('NexusPHP bonus: the A at which the first term reaches half of B0'),
  BONUS_NEXUS_T0_WEEKS: z.coerce.number().positive().max(1e4).default(4).describe('NexusPHP bonus: torrent age, weeks, at which its weight reaches 90%'),
  BONUS_NEXUS_N0: int(2, 1e6).default(7).describe('NexusPHP bonus: seeders at which the few-seeders boost falls to a tenth'),
  BONUS_NEXUS_PER_SEED: z.coerce.number().min(0).max(1e6).default(1).describe('NexusPHP bonus: points per hour per torrent seeded'),
  BONUS_NEXUS_MAX_SEED: int(0, 1e6).default(7).describe('NexusPHP bonus: most torrents counted for BONUS_NEXUS_PER_SEED'),
  RULES_TICK_SECONDS: int(1, 86400).default(600).describe('How often hit-and-run cases and ratio watch are evaluated, seconds'),
  HNR_ENABLED: bool.default(false).describe('Hit-and-run cases: a download must be seeded (HNR_*)'),
  HNR_TRIGGER_FRACTION: z.coerce.number().gt(0).max(1).default(0.1).describe('Share of a torrent\'s size a user must download (raw bytes, before promotions) for a hit-and-run case to open'),
  HNR_MIN_SEED_SECONDS: int(0, 365 * 86400).default(259200).describe('Seeding time, seconds in all, that reaches a hit-and-run case'),
  HNR_RATIO_EXEMPT: z.coerce.number().min(0).max(1000).default(1).describe('Raw upload, in times the torrent\'s size, that also reaches a hit-and-run case; 0 = none'),
  HNR_PREWARN_SECONDS: int(0, 365 * 86400).default(86400).describe('Absence from the swarm, seconds, after which an open case warns the user'),
  HNR_GRACE_SECONDS: int(1, 365 * 86400).default(259200).describe('Absence from the swarm, seconds, after which an open case becomes UNREACHED (a user still in the swarm never fails)'),
  HNR_RECOVERABLE: bool.default(true).describe('An UNREACHED case becomes REACHED when the user seeds it to the requirement later'),
  HNR_EXPIRE_SECONDS: int(0, 10 * 365 * 86400).default(1209600).describe('An UNREACHED case stops counting after this many seconds; 0 = never'),
  HNR_MAX_UNREACHED: int(1, 100000).default(3).describe('Unreached cases at which the user\'s leeching announces are refused (seeding never is)'),
  HNR_EXEMPT_ROLES: z.string().default('UPLOADER,MODERATOR,ADMIN').refine(roleList, 'must be a comma-separated list of USER, UPLOADER, MODERATOR, ADMIN').describe('Roles that get no hit-and-run cases (judged when a case would open)'),
  HNR_PARDON_PRICE: z.coerce.number().min(0).max(1e12).default(2500).describe('Bonus points that clear an INSPECTING or UNREACHED case (payHitAndRun); 0 = cannot be bought'),
  RATIO_WATCH_ENABLED: bool.default(false).describe('Ratio watch (Gazelle): below the required ratio, a deadline; past it, leeching refused until the ratio is back'),
  RATIO_WATCH_SECONDS: int(60, 365 * 86400).default(1209600).describe('Ratio watch: seconds to get back to the required ratio'),
  RATIO_WATCH_GAMBLE_BYTES: int(0, 1e18).default(10 * 2 ** 30).describe('Ratio watch: downloading more than this while on watch refuses leeching at once; 0 = off'),
  RATIO_WATCH_TABLE: z.string().default(GAZELLE_RATIO_TABLE).refine((v) => parseRatioTable(v) !== null, 'must be GiB:max:min brackets, e.g. 5:0.15:0,10:0.2:0 (ascending GiB, 0 <= min <= max)').describe('Ratio watch: required ratio by downloaded GiB, as from:max:min brackets; max applies with nothing seeded, min with everything seeded'),
  RATIO_WATCH_EXEMPT_ROLES: z.string().default('MODERATOR,ADMIN').refine(roleList, 'must be a comma-separated list of USER, UPLOADER, MODERATOR, ADMIN').describe('Roles never put on ratio watch'),
  SHOP_UPLOAD_OFFERS: z.string().default('1:100,10:900,100:8000').refine((v) => parseOffers(v) !== null, 'must be GiB:price pairs, e.g. 1:100,10:900, or none').describe('Bonus shop: upload credit offers as GiB:price pairs; none = not sold'),
  SHOP_INVITE_PRICE: z.coerce.number().min(0).max(1e12).default(2500).describe('Bonus shop: price of an invite; 0 = not sold'),
  SHOP_FREELEECH_PRICE: z.coerce.number().min(0).max(1e12).default(5000).describe('Bonus shop: price of personal free leech (none of the user\'s download counted); 0 = not sold'),
  SHOP_FREELEECH_HOURS: int(1, 8760).default(24).describe('Bonus shop: hours of personal free leech per purchase'),
  GRAPHIQL: bool.optional().describe('Serve GraphiQL at /graphql (default: on outside production)'),
  WORKERS: int(1, 256).default(1).describe('Server processes to run (needs REDIS_URL when > 1)'),
  PERF_PROBE: bool.default(false).describe('Serve GET /__perf (peer and torrent counts, memory) for the load harness in bench/; keep off in production'),
});

export type Env = z.infer<typeof envSchema>;

/** Prefixes we own: a variable with one of them that is not declared above is a typo. */
const OWN_PREFIXES = ['TRACKER_', 'ACCOUNTING_', 'BONUS_', 'JWT_', 'AUTH_', 'METRICS_', 'PGLITE_', 'FEED_', 'RULES_', 'HNR_', 'RATIO_WATCH_', 'SHOP_'];

export interface Config {
  env: Env['NODE_ENV'];
  /** The address to bind; null = both families (server/listen.ts). */
  host: string | null;
  port: number;
  publicUrl: string;
  dataDir: string;
  database: { kind: 'pglite'; dataDir: string | null; thread: 'worker' | 'main' } | { kind: 'postgres'; url: string };
  redisUrl: string | null;
  redisPrefix: string;
  logLevel: Env['LOG_LEVEL'];
  auth: {
    /** Empty until the app reads it from the database when that is its source (auth/site-secret.ts). */
    jwtSecret: string;
    jwtSecretSource: JwtSecretSource;
    jwtTtlSeconds: number;
    cookieName: string;
    cookieSecure: boolean;
  };
  trustProxy: string[];
  metricsToken: string | null;
  tracker: {
    interval: number;
    minInterval: number;
    peerGrace: number;
    numwantDefault: number;
    numwantMax: number;
    announceRateLimit: number;
    scrapeMaxHashes: number;
    maxUploadRate: number;
    revokeLeechRate: number;
    allowIpParam: boolean;
    announceAliases: string[];
  };
  /** bonusPerSeedHour is 0 when BONUS_FORMULA=nexus: the rules tick pays the seeding bonus instead. */
  accounting: { flushIntervalMs: number; bonusPerSeedHour: number; giftTax: number };
  feeds: { rateLimit: number; title: string };
  rules: RulesConfig;
  graphiql: boolean;
  workers: number;
  perfProbe: boolean;
}

/**
 * `env`: JWT_SECRET. `database`: generated once and kept in PostgreSQL, shared by every process.
 * `file`: DATA_DIR/jwt-secret (embedded database). `memory`: random per process (tests).
 */
export type JwtSecretSource = 'env' | 'database' | 'file' | 'memory';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** Tests pass in-memory databases: no data dir is created, and the JWT secret is random unless JWT_SECRET is set. */
  inMemory?: boolean;
}

export function loadConfig(source: NodeJS.ProcessEnv, options: LoadConfigOptions = {}): Config {
  const declared = new Set(Object.keys(envSchema.shape));
  const unknown = Object.keys(source).filter((k) => OWN_PREFIXES.some((p) => k.startsWith(p)) && !declared.has(k));
  const input: Record<string, string> = {};
  for (const key of declared) {
    const value = source[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = envSchema.safeParse(input);
  const problems = unknown.map((k) => `${k}: unknown variable (see README "Configuration")`);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.') || '(env)'}: ${issue.message}`);
  }
  if (parsed.success) {
    const e = parsed.data;
    if (e.TRACKER_MIN_INTERVAL > e.TRACKER_ANNOUNCE_INTERVAL) problems.push('TRACKER_MIN_INTERVAL: must not exceed TRACKER_ANNOUNCE_INTERVAL');
    if (e.TRACKER_NUMWANT_DEFAULT > e.TRACKER_NUMWANT_MAX) problems.push('TRACKER_NUMWANT_DEFAULT: must not exceed TRACKER_NUMWANT_MAX');
    if (e.WORKERS > 1 && !e.REDIS_URL) problems.push('WORKERS: more than one worker needs REDIS_URL (shared swarms, accounting and rate limits)');
    if (e.HNR_PREWARN_SECONDS >= e.HNR_GRACE_SECONDS) problems.push('HNR_PREWARN_SECONDS: must be less than HNR_GRACE_SECONDS (the warning comes before the case fails)');
    if (e.WORKERS > 1 && !e.DATABASE_URL) problems.push('WORKERS: more than one worker needs DATABASE_URL (PGlite is one process)');
    if (e.NODE_ENV === 'production' && e.JWT_SECRET !== undefined && new Set(e.JWT_SECRET).size < 10) {
      problems.push('JWT_SECRET: too predictable for production (use 32+ random characters)');
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const e = parsed.data;
  const dataDir = resolve(e.DATA_DIR);
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const jwtSecretSource: JwtSecretSource = e.JWT_SECRET ? 'env' : options.inMemory ? 'memory' : e.DATABASE_URL ? 'database' : 'file';
  return {
    env: e.NODE_ENV,
    host: e.HOST ?? null,
    port: e.PORT,
    publicUrl,
    dataDir,
    database: e.DATABASE_URL ? { kind: 'postgres', url: e.DATABASE_URL } : { kind: 'pglite', dataDir: options.inMemory ? null : join(dataDir, 'pglite'), thread: e.PGLITE_THREAD },
    redisUrl: e.REDIS_URL ?? null,
    redisPrefix: e.REDIS_PREFIX,
    logLevel: e.LOG_LEVEL,
    auth: {
      jwtSecret: e.JWT_SECRET ?? (jwtSecretSource === 'memory' ? randomSecret() : jwtSecretSource === 'file' ? fileJwtSecret(dataDir) : ''),
      jwtSecretSource,
      jwtTtlSeconds: e.JWT_TTL_SECONDS,
      cookieName: e.AUTH_COOKIE_NAME,
      cookieSecure: publicUrl.startsWith('https://'),
    },
    trustProxy: e.TRUST_PROXY.split(',').map((s) => s.trim()).filter(Boolean),
    metricsToken: e.METRICS_TOKEN ?? null,
    tracker: {
      interval: e.TRACKER_ANNOUNCE_INTERVAL,
      minInterval: e.TRACKER_MIN_INTERVAL,
      peerGrace: e.TRACKER_PEER_GRACE,
      numwantDefault: e.TRACKER_NUMWANT_DEFAULT,
      numwantMax: e.TRACKER_NUMWANT_MAX,
      announceRateLimit: e.TRACKER_ANNOUNCE_RATE_LIMIT,
      scrapeMaxHashes: e.TRACKER_SCRAPE_MAX_HASHES,
      maxUploadRate: e.TRACKER_MAX_UPLOAD_RATE,
      revokeLeechRate: e.TRACKER_REVOKE_LEECH_RATE,
      allowIpParam: e.TRACKER_ALLOW_IP_PARAM,
      announceAliases: e.TRACKER_ANNOUNCE_ALIASES.split(',').map((s) => s.trim()).filter((s) => s.startsWith('/')),
    },
    accounting: { flushIntervalMs: e.ACCOUNTING_FLUSH_INTERVAL_MS, bonusPerSeedHour: e.BONUS_FORMULA === 'flat' ? e.BONUS_PER_SEED_HOUR : 0, giftTax: e.BONUS_GIFT_TAX },
    feeds: { rateLimit: e.FEED_RATE_LIMIT, title: e.FEED_TITLE ?? new URL(publicUrl).host },
    rules: rulesConfig(e),
    graphiql: e.GRAPHIQL ?? e.NODE_ENV !== 'production',
    workers: e.WORKERS,
    perfProbe: e.PERF_PROBE,
  };
}

const JWT_SECRET_SOURCES: Record<JwtSecretSource, (config: Config) => string> = {
  env: () => 'JWT_SECRET',
  database: () => 'generated once and kept in the database (table site_secrets), shared by every process on DATABASE_URL',
  file: (config) => `generated once and kept in ${join(config.dataDir, 'jwt-secret')}`,
  memory: () => 'random, this process only',
};

/** The effective configuration as printable text, secrets and credentials redacted. */
export function describeConfig(config: Config): string {
  const redactUrl = (url: string) => url.replace(/\/\/([^@/]*)@/, '//<redacted>@');
  const shown = {
    ...config,
    host: config.host ?? '(unset) [::] with IPv6-only off: IPv4 and IPv6 on one socket; 0.0.0.0 (IPv4 only) where the machine has no IPv6',
    database: config.database.kind === 'postgres' ? { kind: 'postgres', url: redactUrl(config.database.url) } : config.database,
    redisUrl: config.redisUrl ? redactUrl(config.redisUrl) : null,
    auth: { ...config.auth, jwtSecret: `<redacted: ${JWT_SECRET_SOURCES[config.auth.jwtSecretSource](config)}>` },
    metricsToken: config.metricsToken ? '<redacted>' : null,
  };
  const lines = [JSON.stringify(shown, null, 2), '', 'Variables:'];
  for (const [key, schema] of Object.entries(envSchema.shape)) lines.push(`  ${key}: ${schema.description ?? ''}`);
  return lines.join('\n');
}
