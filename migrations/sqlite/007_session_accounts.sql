-- The account of each signed-in session (the record's user.id), so "where you're signed in"
-- lists and revokes an account's sessions without reading every row. The session store
-- writes it with the record at every set(), so it cannot disagree with the record; NULL
-- for anonymous sessions, which the partial index leaves out. Rows written before this
-- version get it from their record.
ALTER TABLE sessions ADD COLUMN user_id INTEGER;
UPDATE sessions SET user_id = json_extract(data, '$.user.id') WHERE json_valid(data);
CREATE INDEX sessions_user_id ON sessions (user_id) WHERE user_id IS NOT NULL;
