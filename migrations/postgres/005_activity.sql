-- Recent activity (src/account/activity.ts): each account's security events, newest
-- shown on its home page. network is the client's /24 or /64 (never a full address);
-- detail is a short, non-secret word the kind gives meaning to (the sign-in method, a
-- passkey's name). Removing an account removes its events. Pruned by age (ACTIVITY_MAX_AGE_MS)
-- and by count per account: recording an event queues its account in activity_trim_queue,
-- and pruning trims each queued account to its newest events, so it never scans the table.
CREATE TABLE security_events (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  at BIGINT NOT NULL,
  network TEXT,
  detail TEXT
);
CREATE INDEX security_events_user_at ON security_events (user_id, at, id);
CREATE INDEX security_events_at ON security_events (at);

CREATE TABLE activity_trim_queue (
  user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE
);

-- The operator's lock (npm run user:lock): when set, the account cannot sign in. An
-- identity column never hands out a deleted account's id again.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
