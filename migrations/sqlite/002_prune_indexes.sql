-- Every growing table is pruned by age (src/storage/sqlite/index.ts); these indexes keep
-- each pruning batch from scanning its table.
CREATE INDEX IF NOT EXISTS failed_logins_updated_at ON failed_logins (updated_at);
CREATE INDEX IF NOT EXISTS sign_in_networks_last_success_at ON sign_in_networks (last_success_at);
CREATE INDEX IF NOT EXISTS spent_captcha_challenges_expires_at ON spent_captcha_challenges (expires_at);
CREATE INDEX IF NOT EXISTS destroyed_sessions_expires_at ON destroyed_sessions (expires_at);
