-- A torrent's promotion as two transfer factors, each with its own end (src/torrents/promotion.ts):
-- NexusPHP's 2X 50% and 30% and UNIT3D's free percentages and separate free/double-up ends have
-- no Promotion enum value. Existing promotions keep their meaning and their end.
ALTER TABLE "torrents"
    ADD COLUMN "download_percent" INTEGER NOT NULL DEFAULT 100,
    ADD COLUMN "download_percent_until" TIMESTAMP(3),
    ADD COLUMN "upload_percent" INTEGER NOT NULL DEFAULT 100,
    ADD COLUMN "upload_percent_until" TIMESTAMP(3);

UPDATE "torrents" SET
    "download_percent" = CASE "promotion" WHEN 'FREE' THEN 0 WHEN 'FREE_DOUBLE_UP' THEN 0 WHEN 'HALF_DOWN' THEN 50 ELSE 100 END,
    "download_percent_until" = CASE WHEN "promotion" IN ('FREE', 'FREE_DOUBLE_UP', 'HALF_DOWN') THEN "promotion_until" END,
    "upload_percent" = CASE WHEN "promotion" IN ('DOUBLE_UP', 'FREE_DOUBLE_UP') THEN 200 ELSE 100 END,
    "upload_percent_until" = CASE WHEN "promotion" IN ('DOUBLE_UP', 'FREE_DOUBLE_UP') THEN "promotion_until" END
WHERE "promotion" <> 'NONE';

ALTER TABLE "torrents" DROP COLUMN "promotion", DROP COLUMN "promotion_until";

DROP TYPE "Promotion";
