-- Feeds (src/feeds): the standard newznab category of each site category (null = 8000 Other),
-- and optional IMDb/TMDB/TVDB ids on torrents, which the Torznab indexer emits and searches by.

-- AlterTable
ALTER TABLE "categories" ADD COLUMN     "newznab_id" INTEGER;

-- AlterTable
ALTER TABLE "torrents" ADD COLUMN     "imdb_id" INTEGER,
ADD COLUMN     "tmdb_id" INTEGER,
ADD COLUMN     "tvdb_id" INTEGER;

-- CreateIndex
CREATE INDEX "torrents_imdb_id_idx" ON "torrents"("imdb_id");

-- CreateIndex
CREATE INDEX "torrents_tmdb_id_idx" ON "torrents"("tmdb_id");

-- CreateIndex
CREATE INDEX "torrents_tvdb_id_idx" ON "torrents"("tvdb_id");
