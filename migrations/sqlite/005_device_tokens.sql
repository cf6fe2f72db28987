-- Known devices (src/auth/devices.ts): the SHA-256 of a browser's device token and an
-- account it is a known device of, until expires_at. One token may be known for several
-- accounts; revoking all of an account's devices finds them by account_id. Pruned once
-- expired.
CREATE TABLE device_tokens (
  token_hash TEXT NOT NULL,
  account_id INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (token_hash, account_id)
) WITHOUT ROWID;
CREATE INDEX device_tokens_account_id ON device_tokens (account_id);
CREATE INDEX device_tokens_expires_at ON device_tokens (expires_at);

-- The lockout's "known networks" gave way to known devices (a network is shared with
-- strangers, a device cookie is not): the table is no longer read or written.
DROP INDEX IF EXISTS sign_in_networks_last_success_at;
DROP TABLE IF EXISTS sign_in_networks;
