-- Recent activity (src/account/activity.ts): each account's security events, newest
-- shown on its home page. network is the client's /24 or /64 (never a full address);
-- detail is a short, non-secret word the kind gives meaning to (the sign-in method, a
-- passkey's name). Removing an account removes its events. Pruned by age (ACTIVITY_MAX_AGE_MS)
-- and by count per account: recording an event queues its account in activity_trim_queue,
-- and pruning trims each queued account to its newest events, so it never scans the table.
CREATE TABLE security_events (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  at INTEGER NOT NULL,
  network TEXT,
  detail TEXT
);
CREATE INDEX security_events_user_at ON security_events (user_id, at, id);
CREATE INDEX security_events_at ON security_events (at);

CREATE TABLE activity_trim_queue (
  user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE
);

-- The operator's lock (npm run user:lock): when set, the account cannot sign in.
ALTER TABLE users ADD COLUMN disabled_at INTEGER;

-- SQLite hands a deleted row's id to the next insert when it was the highest. An account's
-- id keys state kept elsewhere (sessions, known devices, lockout counts on Redis), so a
-- deleted account's id is never given again: its highest deleted id is kept here, and a
-- new account's id is above both it and every live id (what AUTOINCREMENT would do,
-- which an existing table cannot be given).
CREATE TABLE retired_user_ids (
  id INTEGER PRIMARY KEY
);
