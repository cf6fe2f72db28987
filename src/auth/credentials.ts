/**
 * What a username and a password must look like, shared by the web forms and the CLI.
 *
 * Passwords follow NIST 800-63B: a minimum length and no composition rules; the upper
 * bound only caps the work a single request can cause.
 */
import { z } from 'zod';

export const USERNAME_PATTERN = /^[A-Za-z0-9._-]{3,32}$/;
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

export const usernameSchema = z.string().regex(USERNAME_PATTERN);
export const newPasswordSchema = z.string().min(PASSWORD_MIN_LENGTH).max(PASSWORD_MAX_LENGTH);
