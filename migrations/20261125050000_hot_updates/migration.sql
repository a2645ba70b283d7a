-- The accounting flush rewrites the row of every user and snatch that announced, and the swarm
-- counts of every changed torrent, at each flush. Free space kept on every page lets those
-- updates stay on their page as HOT updates: no new index entries, and the old versions are
-- reclaimed by page pruning. PGlite runs no autovacuum, so with full pages every flush left a
-- dead version per row and new entries in every index, and the tables grew without end.
-- Applies to pages written from now on (existing rows move as they are updated).
ALTER TABLE "users" SET (fillfactor = 70);
ALTER TABLE "snatches" SET (fillfactor = 70);
ALTER TABLE "torrents" SET (fillfactor = 70);
