-- Credit batches flushed from Redis, so a batch retried after a crash is applied once.
CREATE TABLE "credit_batches" (
    "id" TEXT NOT NULL,
    "applied_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "credit_batches_pkey" PRIMARY KEY ("id")
);
