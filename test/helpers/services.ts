/**
 * The machine's Redis and PostgreSQL for tests: each test gets its own Redis key prefix
 * and its own PostgreSQL database, deleted when the test ends, so runs never see each
 * other's data. CI starts the services (scripts/start-services.sh); TEST_REDIS_URL and
 * TEST_DATABASE_URL (a database the test may create others from) point elsewhere.
 */
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { createClient } from 'redis';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh key prefix on the test Redis; its keys are deleted after the test. */
export function redisPrefix(t: TestContext): string {
  const prefix = `captcha-login-test:${process.pid}-${randomBytes(6).toString('hex')}:`;
  t.after(async () => {
    const client = createClient({ url: TEST_REDIS_URL });
    await client.connect();
    try {
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length > 0) await client.del(keys);
    } finally {
      await client.close();
    }
  });
  return prefix;
}

async function asAdmin(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** Creates an empty database for this test (dropped after it) and returns its URL. */
export async function postgresDatabase(t: TestContext): Promise<string> {
  const name = `captcha_login_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  await asAdmin(`CREATE DATABASE ${name}`);
  t.after(() => asAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
