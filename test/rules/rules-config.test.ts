/**
 * The site rules' settings as the operator writes them (environment variables): defaults,
 * every bad value refused with a line naming it, and the pure rules the SQL mirrors
 * (Gazelle's required ratio, NexusPHP's bonus formula on the research notes' worked examples).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { requiredRatio } from '../../src/rules/ratio-watch.ts';
import { nexusPointsPerHour } from '../../src/rules/seeding-bonus.ts';
import { shopItems } from '../../src/rules/shop.ts';

const GiB = 2 ** 30;
const load = (env: Record<string, string>) => loadConfig({ NODE_ENV: 'test', ...env }, { inMemory: true });

function problems(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('site rules configuration', () => {
  it('defaults: everything off but the shop; flat bonus accrual', () => {
    const c = load({});
    expect(c.rules.hnr).toMatchObject({ enabled: false, triggerFraction: 0.1, minSeedSeconds: 259200, ratioExempt: 1, prewarnSeconds: 86400, graceSeconds: 259200, recoverable: true, expireSeconds: 1209600, maxUnreached: 3, exemptRoles: ['UPLOADER', 'MODERATOR', 'ADMIN'] });
    expect(c.rules.ratioWatch).toMatchObject({ enabled: false, seconds: 1209600, gambleBytes: 10 * GiB, exemptRoles: ['MODERATOR', 'ADMIN'] });
    expect(c.rules.ratioWatch.table[0]).toEqual({ fromBytes: 5 * GiB, max: 0.15, min: 0 });
    expect(c.rules.bonus).toEqual({ formula: 'flat' });
    expect(c.accounting.bonusPerSeedHour).toBe(1);
    expect(c.rules.tickSeconds).toBe(600);
    expect(shopItems(c.rules).map((i) => [i.id, i.price])).toEqual([
      ['upload-1gib', 100],
      ['upload-10gib', 900],
      ['upload-100gib', 8000],
      ['invite', 2500],
      ['hit-and-run-pardon', 2500],
      ['freeleech', 5000],
    ]);
  });

  it('the NexusPHP formula turns the flat accrual off; a price of 0 takes an item off the shelf', () => {
    const c = load({ BONUS_FORMULA: 'nexus', BONUS_PER_SEED_HOUR: '3', SHOP_UPLOAD_OFFERS: 'none', SHOP_INVITE_PRICE: '0', HNR_PARDON_PRICE: '0', SHOP_FREELEECH_PRICE: '0' });
    expect(c.accounting.bonusPerSeedHour).toBe(0);
    expect(c.rules.bonus).toMatchObject({ formula: 'nexus', tickSeconds: 3600, b0: 100, l: 300, t0Weeks: 4, n0: 7, perSeed: 1, maxSeed: 7 });
    expect(shopItems(c.rules)).toEqual([]);
  });

  it('refuses bad values, naming each variable', () => {
    expect(problems({ HNR_TRIGGER_FRACTION: '0' })).toEqual([expect.stringMatching(/^HNR_TRIGGER_FRACTION: /)]);
    expect(problems({ HNR_TRIGGER_FRACTION: '1.5' })).toEqual([expect.stringMatching(/^HNR_TRIGGER_FRACTION: /)]);
    expect(problems({ HNR_ENABLED: 'maybe' })).toEqual([expect.stringMatching(/^HNR_ENABLED: /)]);
    expect(problems({ HNR_EXEMPT_ROLES: 'MODERATOR,VIP' })).toEqual(['HNR_EXEMPT_ROLES: must be a comma-separated list of USER, UPLOADER, MODERATOR, ADMIN']);
    expect(problems({ HNR_PREWARN_SECONDS: '7200', HNR_GRACE_SECONDS: '7200' })).toEqual(['HNR_PREWARN_SECONDS: must be less than HNR_GRACE_SECONDS (the warning comes before the case fails)']);
    expect(problems({ HNR_MAX_UNREACHED: '0' })).toEqual([expect.stringMatching(/^HNR_MAX_UNREACHED: /)]);
    expect(problems({ RULES_TICK_SECONDS: '0' })).toEqual([expect.stringMatching(/^RULES_TICK_SECONDS: /)]);
    for (const table of ['5:0.1', '5:0.1:0.2', '10:0.2:0,5:0.1:0', 'x:1:0']) expect(problems({ RATIO_WATCH_TABLE: table })).toEqual([expect.stringMatching(/^RATIO_WATCH_TABLE: must be GiB:max:min brackets/)]);
    for (const offers of ['1', '0:100', '1:0', '1:-5', 'a:b']) expect(problems({ SHOP_UPLOAD_OFFERS: offers })).toEqual([expect.stringMatching(/^SHOP_UPLOAD_OFFERS: must be GiB:price pairs/)]);
    expect(problems({ BONUS_FORMULA: 'gazelle' })).toEqual([expect.stringMatching(/^BONUS_FORMULA: /)]);
    expect(problems({ HNR_GRACE: '60', SHOP_PRICE: '1', RATIO_WATCH_ON: 'true' })).toEqual([
      'HNR_GRACE: unknown variable (see README "Configuration")',
      'SHOP_PRICE: unknown variable (see README "Configuration")',
      'RATIO_WATCH_ON: unknown variable (see README "Configuration")',
    ]);
  });
});

describe('the rules the SQL mirrors', () => {
  const table = load({}).rules.ratioWatch.table;

  it("Gazelle's required ratio: the bracket's max, lowered by the share seeded, never below its min", () => {
    expect(requiredRatio(table, 4 * GiB, 0, 10)).toBe(0);
    expect(requiredRatio(table, 25 * GiB, 0, 10)).toBe(0.3);
    expect(requiredRatio(table, 25 * GiB, 5, 10)).toBe(0.15);
    expect(requiredRatio(table, 25 * GiB, 10, 10)).toBe(0.05);
    expect(requiredRatio(table, 25 * GiB, 30, 10)).toBe(0.05);
    expect(requiredRatio(table, 150 * GiB, 0, 10)).toBe(0.6);
    expect(requiredRatio(table, 150 * GiB, 0, 0)).toBe(0.6);
  });

  it("NexusPHP's seeding bonus: one 10 GiB torrent 4 weeks old earns 5.60 an hour alone, 3.18 among 7 seeders", () => {
    const nexus = load({ BONUS_FORMULA: 'nexus' }).rules.bonus;
    if (nexus.formula !== 'nexus') throw new Error('nexus expected');
    const torrent = { sizeBytes: 10 * GiB, ageSeconds: 4 * 7 * 86400 };
    expect(nexusPointsPerHour(nexus, [{ ...torrent, seeders: 1 }])).toBeCloseTo(5.6028, 4);
    expect(nexusPointsPerHour(nexus, [{ ...torrent, seeders: 7 }])).toBeCloseTo(3.1791, 4);
    expect(nexusPointsPerHour(nexus, [])).toBe(0);
  });
});
