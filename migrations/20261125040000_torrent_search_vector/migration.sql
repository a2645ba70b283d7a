-- The full-text vector of a torrent, stored (a generated column) instead of recomputed for
-- every match: ranking a broad search (tens of thousands of matches) then reads the vector
-- instead of parsing name and description again. Same expression as 20261125030000, which
-- this replaces; src/graphql/torrent-search.ts queries the column. schema.prisma declares the
-- column as Unsupported("tsvector") (Prisma cannot express the generation expression); the
-- GIN index keeps the `raw_` prefix that the migrations-vs-schema test leaves out.
DROP INDEX "raw_torrents_search";

ALTER TABLE "torrents" ADD COLUMN "search_vector" tsvector GENERATED ALWAYS AS (setweight(to_tsvector('simple'::regconfig, translate("name", '._-[]()', '       ')), 'A') || setweight(to_tsvector('simple'::regconfig, "description"), 'D')) STORED;

CREATE INDEX "raw_torrents_search" ON "torrents" USING GIN ("search_vector");
