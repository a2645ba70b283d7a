-- AlterTable
ALTER TABLE "torrents" ADD COLUMN     "piece_layers" BYTEA;
