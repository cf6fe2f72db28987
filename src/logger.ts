/**
 * The app's structured logger. Request logs carry no headers or bodies (see app.ts); the
 * redaction here is a second net for anything that still names a secret field.
 */
import { pino, type Logger } from 'pino';

export const REDACTED_PATHS = [
  'password',
  'captcha',
  'answer',
  'cookie',
  '*.password',
  '*.captcha',
  '*.answer',
  '*.cookie',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
