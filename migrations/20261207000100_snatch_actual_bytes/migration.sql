-- Bytes really transferred per user and torrent, before the promotion (after the anti-cheat
-- rules): site rules (hit-and-run) judge a download by these, so free leech cannot exempt it.
-- Rows written before this migration only know their credited bytes.
ALTER TABLE "snatches"
    ADD COLUMN "actual_uploaded" BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN "actual_downloaded" BIGINT NOT NULL DEFAULT 0;
