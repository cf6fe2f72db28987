-- Accounts. Usernames are unique without regard to case: the database enforces it with a
-- unique index on lower(username), which findByUsername's lookup also uses.
CREATE TABLE users (
  id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));
