/**
 * The client facts a session records at sign-in, for "where you're signed in"
 * (src/account/sessions.ts): the browser family and operating system read from the
 * User-Agent (bowser), and the network the request came from (/24 or /64, as the lockout
 * counts it). Only these few words are kept, never the User-Agent itself or the full
 * address: enough for a person to tell their devices apart, nothing more to leak.
 */
import Bowser from 'bowser';
import type { Request } from 'express';
import { networkOf } from '../auth/lockout.js';

export interface SessionClient {
  /** e.g. "Firefox", "Microsoft Edge"; absent when the User-Agent names none. */
  browser?: string;
  /** e.g. "Windows", "iOS"; absent when the User-Agent names none. */
  os?: string;
  /** "192.0.2.0/24", "2001:db8:0:0::/64", or "unknown". */
  network: string;
}

/** Longer User-Agents are cut before parsing: real ones are shorter, and the parser's regular expressions need not see more. */
const USER_AGENT_MAX_LENGTH = 512;
/** A name longer than this is no browser's (bowser passes an unknown product name through as it was sent). */
const NAME_MAX_LENGTH = 40;

const nameOf = (value: string | undefined) => (value && value.length <= NAME_MAX_LENGTH ? value : undefined);

/** The facts of the client that sent `req`. */
export function clientOf(req: Request): SessionClient {
  const network = networkOf(req.ip);
  const userAgent = req.get('user-agent')?.slice(0, USER_AGENT_MAX_LENGTH);
  // bowser refuses an empty User-Agent; a client that sends none is simply unknown.
  if (!userAgent) return { network };
  const { browser, os } = Bowser.parse(userAgent);
  const client: SessionClient = { network };
  const [browserName, osName] = [nameOf(browser.name), nameOf(os.name)];
  if (browserName) client.browser = browserName;
  if (osName) client.os = osName;
  return client;
}
