-- Announces whose reported upload was not credited in full (src/accounting/deltas.ts), for staff review.
-- CreateEnum
CREATE TYPE "SuspicionReason" AS ENUM ('SPEED', 'UPLOAD_WITHOUT_LEECHERS', 'IMPOSSIBLE_SPEED');

-- CreateTable
CREATE TABLE "suspicious_announces" (
    "id" SERIAL NOT NULL,
    "user_id" INTEGER NOT NULL,
    "torrent_id" INTEGER NOT NULL,
    "reason" "SuspicionReason" NOT NULL,
    "reported_uploaded" BIGINT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "suspicious_announces_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "suspicious_announces_created_at_idx" ON "suspicious_announces"("created_at");

-- CreateIndex
CREATE INDEX "suspicious_announces_user_id_idx" ON "suspicious_announces"("user_id");

-- AddForeignKey
ALTER TABLE "suspicious_announces" ADD CONSTRAINT "suspicious_announces_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "suspicious_announces" ADD CONSTRAINT "suspicious_announces_torrent_id_fkey" FOREIGN KEY ("torrent_id") REFERENCES "torrents"("id") ON DELETE CASCADE ON UPDATE CASCADE;

