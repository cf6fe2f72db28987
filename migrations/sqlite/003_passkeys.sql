-- Passkeys (WebAuthn credentials) of each account, and the challenges issued for the
-- WebAuthn ceremonies. A credential id is unique over all accounts; removing an account
-- removes its passkeys. counter is the authenticator's signature counter as last seen
-- (0 for authenticators that keep none); transports is a comma-separated list (usb,internal).
CREATE TABLE passkeys (
  id TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  public_key BLOB NOT NULL,
  counter INTEGER NOT NULL,
  transports TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
) WITHOUT ROWID;
CREATE INDEX passkeys_user_id ON passkeys (user_id);

-- Issued challenges, each taken (deleted) by the first response that names it; pruned
-- once expired.
CREATE TABLE webauthn_challenges (
  challenge TEXT PRIMARY KEY,
  purpose TEXT NOT NULL,
  user_id INTEGER,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX webauthn_challenges_expires_at ON webauthn_challenges (expires_at);
