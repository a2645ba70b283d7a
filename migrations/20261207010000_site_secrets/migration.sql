-- Secrets the site generates once and every process shares (src/auth/site-secret.ts): the JWT
-- secret when JWT_SECRET is unset, so processes on one DATABASE_URL accept each other's tokens.
-- CreateTable
CREATE TABLE "site_secrets" (
    "name" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "site_secrets_pkey" PRIMARY KEY ("name")
);
