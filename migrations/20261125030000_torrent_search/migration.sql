-- Full-text search over torrent names (weight A) and descriptions (weight D) for
-- `torrents(search:)` (src/graphql/torrent-search.ts, which must use the identical expression).
-- An expression GIN index cannot be written in schema.prisma; the `raw_` prefix tells the
-- migrations-vs-schema test to leave it out of the comparison.
CREATE INDEX "raw_torrents_search" ON "torrents" USING GIN ((setweight(to_tsvector('simple'::regconfig, translate("name", '._-[]()', '       ')), 'A') || setweight(to_tsvector('simple'::regconfig, "description"), 'D')));
