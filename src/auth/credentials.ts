/**
 * What the sign-in and sign-up fields may hold, shared by the web forms and the CLI.
 *
 * Any field: no control characters in names and answers, no NUL or broken UTF-16 (lone
 * surrogates) anywhere. Passwords follow NIST 800-63B: any Unicode, a minimum length, no
 * composition rules; the byte cap only bounds the work one request can cause.
 */
import { z } from 'zod';

export const USERNAME_PATTERN = /^[A-Za-z0-9._-]{3,32}$/;
export const USERNAME_MAX_LENGTH = 64;
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_BYTES = 1024;
export const CAPTCHA_MAX_LENGTH = 16;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

const wellFormed = (value: string) => !LONE_SURROGATE.test(value) && !value.includes('\u0000');

/** A short single-line field: username as typed at sign-in, captcha answer. */
export const plainField = (maxLength: number) =>
  z.string().max(maxLength).refine((value) => wellFormed(value) && !CONTROL_CHARACTER.test(value));

export const passwordField = z
  .string()
  .refine((value) => wellFormed(value) && Buffer.byteLength(value, 'utf8') <= PASSWORD_MAX_BYTES);

export const usernameSchema = z.string().regex(USERNAME_PATTERN);
export const newPasswordSchema = passwordField.refine((value) => [...value].length >= PASSWORD_MIN_LENGTH);
