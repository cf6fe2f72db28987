-- The hash of the sign-up key an account was made with, so that a retry of a sign-up that
-- was answered 503 after the account was made completes it (src/auth/accounts.ts).
-- Cleared by pruning SIGNUP_KEY_MS after created_at; the partial index keeps that cheap.
ALTER TABLE users ADD COLUMN signup_key_hash TEXT;
CREATE INDEX users_signup_key_created_at ON users (created_at) WHERE signup_key_hash IS NOT NULL;
