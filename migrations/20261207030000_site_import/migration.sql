-- Importing a NexusPHP or UNIT3D site (src/import/).

-- A torrent imported without its .torrent file still announces; its download answers 404.
ALTER TABLE "torrents" ALTER COLUMN "info" DROP NOT NULL,
ALTER COLUMN "piece_length" DROP NOT NULL;

-- NexusPHP 1.6-1.8 authkey secrets (announce.php?authkey=<torrent id>|<user id>|<hashids token>).
CREATE TABLE "torrent_secrets" (
    "user_id" INTEGER NOT NULL,
    "torrent_id" INTEGER NOT NULL,
    "secret" TEXT NOT NULL,

    CONSTRAINT "torrent_secrets_pkey" PRIMARY KEY ("user_id","torrent_id")
);

-- One row per finished import run.
CREATE TABLE "import_runs" (
    "id" SERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "started_at" TIMESTAMP(3) NOT NULL,
    "finished_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "max_user_id" INTEGER NOT NULL,
    "max_torrent_id" INTEGER NOT NULL,
    "report" JSONB NOT NULL,

    CONSTRAINT "import_runs_pkey" PRIMARY KEY ("id")
);

-- AddForeignKey
ALTER TABLE "torrent_secrets" ADD CONSTRAINT "torrent_secrets_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
