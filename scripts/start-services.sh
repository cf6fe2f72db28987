#!/usr/bin/env bash
# Starts the machine's Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432) when they
# do not answer: the storage contract tests and the Redis/PostgreSQL tests use them. Both
# are Debian's packages; this only starts what is installed and stopped.
set -euo pipefail

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "start-services: starting Redis on 127.0.0.1:6379"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "start-services: starting PostgreSQL on 127.0.0.1:5432"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi

# A service that was just started may take a moment to accept connections.
for _ in $(seq 1 50); do
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then exit 0; fi
  sleep 0.2
done
echo "start-services: Redis or PostgreSQL did not come up" >&2
exit 1
