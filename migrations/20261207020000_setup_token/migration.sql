-- The first admin's one-time setup link (src/setup/): the SHA-256 of its token, one row (id 1) while the site has no account.
-- CreateTable
CREATE TABLE "setup_tokens" (
    "id" INTEGER NOT NULL,
    "token_hash" CHAR(64) NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "setup_tokens_pkey" PRIMARY KEY ("id")
);
