/**
 * What the routes of every feature put in front of their handlers: no caching, the JSON
 * body check, the guards of a state-changing post (same origin, JSON, form token), the one
 * body parser (a zod schema, else 400), and the signed-in account a page's post acts for.
 */
import type { Request, RequestHandler } from 'express';
import type { z } from 'zod';
import { requireSameOrigin, type Csrf } from '../session/csrf.js';
import type { SignedInUser } from '../session/types.js';
import { HttpError } from './errors.js';

export const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};

export const requireJson: RequestHandler = (req, _res, next) => {
  if (!req.is('application/json')) throw new HttpError(415, 'unsupported_media_type');
  next();
};

/** What every state-changing JSON post passes before its handler: no caching, same origin, JSON, form token. */
export function guardedPostOf(csrf: Csrf): RequestHandler[] {
  return [noStore, requireSameOrigin, requireJson, csrf.require];
}

/** The value as the schema reads it, or 400 invalid_request (the body's details are not echoed). */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError(400, 'invalid_request');
  return parsed.data;
}

/** The signed-in account; a post from a page whose session ended is refused (401 signed_out). */
export function signedInUser(req: Request): SignedInUser {
  const user = req.session.user;
  if (!user) throw new HttpError(401, 'signed_out');
  return user;
}
