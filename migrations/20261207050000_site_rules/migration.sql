-- Site rules (src/rules): hit-and-run cases, leech blocks with a reason, ratio watch, personal free
-- leech bought in the bonus shop, shop purchases in the bonus ledger, and once-per-period rule runs.
-- CreateEnum
CREATE TYPE "HitAndRunStatus" AS ENUM ('INSPECTING', 'REACHED', 'UNREACHED', 'PARDONED');

-- CreateEnum
CREATE TYPE "HitAndRunResolution" AS ENUM ('SEED_TIME', 'RATIO', 'EXEMPT', 'PAID', 'STAFF', 'TORRENT_DELETED');

-- CreateEnum
CREATE TYPE "LeechBlockReason" AS ENUM ('HIT_AND_RUN', 'RATIO_WATCH');

-- AlterEnum
ALTER TYPE "BonusKind" ADD VALUE 'SHOP';

-- AlterTable
ALTER TABLE "users" ADD COLUMN     "freeleech_until" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "hit_and_runs" (
    "id" SERIAL NOT NULL,
    "user_id" INTEGER NOT NULL,
    "torrent_id" INTEGER NOT NULL,
    "status" "HitAndRunStatus" NOT NULL DEFAULT 'INSPECTING',
    "opened_at" TIMESTAMP(3) NOT NULL,
    "required_seed_seconds" INTEGER NOT NULL,
    "required_ratio" DOUBLE PRECISION NOT NULL,
    "prewarn_seconds" INTEGER NOT NULL,
    "grace_seconds" INTEGER NOT NULL,
    "prewarned_at" TIMESTAMP(3),
    "unreached_at" TIMESTAMP(3),
    "expires_at" TIMESTAMP(3),
    "resolved_at" TIMESTAMP(3),
    "resolution" "HitAndRunResolution",

    CONSTRAINT "hit_and_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "leech_blocks" (
    "id" SERIAL NOT NULL,
    "user_id" INTEGER NOT NULL,
    "reason" "LeechBlockReason" NOT NULL,
    "message" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "leech_blocks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ratio_watches" (
    "user_id" INTEGER NOT NULL,
    "required_ratio" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "ends_at" TIMESTAMP(3),
    "downloaded_at_start" BIGINT,
    "times" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "ratio_watches_pkey" PRIMARY KEY ("user_id")
);

-- CreateTable
CREATE TABLE "rule_runs" (
    "id" TEXT NOT NULL,
    "applied_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "rule_runs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "hit_and_runs_status_user_id_idx" ON "hit_and_runs"("status", "user_id");

-- CreateIndex
CREATE INDEX "hit_and_runs_torrent_id_idx" ON "hit_and_runs"("torrent_id");

-- CreateIndex
CREATE UNIQUE INDEX "hit_and_runs_user_id_torrent_id_key" ON "hit_and_runs"("user_id", "torrent_id");

-- CreateIndex
CREATE UNIQUE INDEX "leech_blocks_user_id_reason_key" ON "leech_blocks"("user_id", "reason");

-- AddForeignKey
ALTER TABLE "hit_and_runs" ADD CONSTRAINT "hit_and_runs_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "hit_and_runs" ADD CONSTRAINT "hit_and_runs_torrent_id_fkey" FOREIGN KEY ("torrent_id") REFERENCES "torrents"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "hit_and_runs" ADD CONSTRAINT "hit_and_runs_user_id_torrent_id_fkey" FOREIGN KEY ("user_id", "torrent_id") REFERENCES "snatches"("user_id", "torrent_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "leech_blocks" ADD CONSTRAINT "leech_blocks_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ratio_watches" ADD CONSTRAINT "ratio_watches_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

