-- Attack mode's shared counters: sign-in outcomes of unknown clients per 10-second bucket
-- (start in ms since the epoch). Pruned once older than ATTACK_SIGNAL_MEMORY_MS; the
-- primary key orders the rows by start, so reading and pruning never scan the table.
CREATE TABLE attack_signals (
  bucket_start INTEGER PRIMARY KEY,
  attempts INTEGER NOT NULL,
  failures INTEGER NOT NULL
) WITHOUT ROWID;
