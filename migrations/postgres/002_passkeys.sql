-- Passkeys (WebAuthn credentials) of each account. A credential id is unique over all
-- accounts; removing an account removes its passkeys. counter is the authenticator's
-- signature counter as last seen (0 for authenticators that keep none); transports is a
-- comma-separated list (usb,internal).
CREATE TABLE passkeys (
  id TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  public_key BYTEA NOT NULL,
  counter BIGINT NOT NULL,
  transports TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT
);
CREATE INDEX passkeys_user_id ON passkeys (user_id);
