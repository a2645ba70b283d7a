/**
 * A torrent's promotion as two transfer factors, each in whole percent with its own end:
 * the share of downloaded bytes counted (0 free leech, 30 NexusPHP's "30%", 50 half, 100
 * normal) and the multiplier of uploaded bytes (100 normal, 200 double). Two factors with two
 * ends express every promotion NexusPHP (sp_state 1-7) and UNIT3D (a free percentage, double
 * upload, separate `fl_until`/`du_until`) keep, which a single enum could not. The named
 * presets are labels over the factors, for staff and legacy clients. Pure.
 */

export interface TransferFactors {
  /** 0..100: percent of downloaded bytes counted. */
  downloadPercent: number;
  /** 0..1000: percent of uploaded bytes credited. */
  uploadPercent: number;
}

export const NEUTRAL_PERCENT = 100;
export const MAX_UPLOAD_PERCENT = 1000;

/** The factor's value at `nowMs`: neutral once its end (unix ms; null = none) has passed. */
export function percentInForce(percent: number, untilMs: number | null, nowMs: number): number {
  return untilMs !== null && untilMs <= nowMs ? NEUTRAL_PERCENT : percent;
}

export const PROMOTION_PRESETS = {
  NONE: { downloadPercent: 100, uploadPercent: 100 },
  FREE: { downloadPercent: 0, uploadPercent: 100 },
  DOUBLE_UP: { downloadPercent: 100, uploadPercent: 200 },
  HALF_DOWN: { downloadPercent: 50, uploadPercent: 100 },
  FREE_DOUBLE_UP: { downloadPercent: 0, uploadPercent: 200 },
  DOUBLE_UP_HALF_DOWN: { downloadPercent: 50, uploadPercent: 200 },
  THIRTY_PERCENT: { downloadPercent: 30, uploadPercent: 100 },
} as const satisfies Record<string, TransferFactors>;

export type PromotionPreset = keyof typeof PROMOTION_PRESETS;
/** A preset's name, or CUSTOM for factors no preset has. */
export type PromotionLabel = PromotionPreset | 'CUSTOM';
export const PROMOTION_LABELS = [...(Object.keys(PROMOTION_PRESETS) as PromotionPreset[]), 'CUSTOM'] as const;

export function promotionLabel(f: TransferFactors): PromotionLabel {
  for (const [name, p] of Object.entries(PROMOTION_PRESETS) as Array<[PromotionPreset, TransferFactors]>) {
    if (p.downloadPercent === f.downloadPercent && p.uploadPercent === f.uploadPercent) return name;
  }
  return 'CUSTOM';
}

/** A torrent's stored factors and their ends (unix ms; null = until changed). */
export interface StoredFactors extends TransferFactors {
  downloadUntil: number | null;
  uploadUntil: number | null;
}

/** The factors in force at `nowMs`. */
export function factorsInForce(s: StoredFactors, nowMs: number): TransferFactors {
  return { downloadPercent: percentInForce(s.downloadPercent, s.downloadUntil, nowMs), uploadPercent: percentInForce(s.uploadPercent, s.uploadUntil, nowMs) };
}

/** When the promotion in force next changes: the earliest end of a factor that is not neutral now; null if none ends. */
export function promotionEndsAt(s: StoredFactors, nowMs: number): number | null {
  let end: number | null = null;
  for (const [percent, until] of [
    [s.downloadPercent, s.downloadUntil],
    [s.uploadPercent, s.uploadUntil],
  ] as const) {
    if (until === null || percentInForce(percent, until, nowMs) === NEUTRAL_PERCENT) continue;
    if (end === null || until < end) end = until;
  }
  return end;
}

/** Bytes credited for `bytes` transferred at `percent` (whole bytes, rounded down). */
export function applyPercent(bytes: number, percent: number): number {
  return percent === NEUTRAL_PERCENT ? bytes : Math.floor((bytes * percent) / 100);
}
