-- The TOTP second factor (RFC 6238, src/auth/totp.ts) of each account that enabled it:
-- its shared secret (base32) and when it was enabled. A row exists only while the factor
-- is enabled (an enrolment under way lives in the session), and user_id is the primary
-- key, so of two concurrent enrolments of one account on any instances one insert wins.
CREATE TABLE totp_factors (
  user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  secret TEXT NOT NULL,
  enabled_at BIGINT NOT NULL
);

-- The account's unused recovery codes, each as the SHA-256 (hex) of the account id and
-- the code, never the code. Using one deletes its row, so it is good once; disabling the
-- factor removes them with it.
CREATE TABLE totp_recovery_codes (
  user_id INTEGER NOT NULL REFERENCES totp_factors (user_id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL,
  PRIMARY KEY (user_id, code_hash)
);
