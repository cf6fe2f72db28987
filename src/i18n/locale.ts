/**
 * Chooses the language of each response: an explicit `?lang=` (which the switch links
 * use, and which is remembered in a cookie), else the remembered choice, else the
 * browser's Accept-Language, else English. Views get `t`, `locale` and the switch links.
 */
import type { RequestHandler } from 'express';
import { DEFAULT_LOCALE, LOCALES, isLocale, translator, type Locale, type Translate } from './messages.js';

export const LANG_COOKIE = 'lang';
const ONE_YEAR_MS = 365 * 24 * 60 * 60 * 1000;

declare module 'express-serve-static-core' {
  interface Request {
    locale: Locale;
  }
  interface Locals {
    locale: Locale;
    t: Translate;
    locales: { code: Locale; name: string }[];
  }
}

export function localeMiddleware(options: { secureCookies: boolean }): RequestHandler {
  return (req, res, next) => {
    const asked = req.query.lang;
    let locale: Locale;
    if (isLocale(asked)) {
      locale = asked;
      res.cookie(LANG_COOKIE, locale, {
        maxAge: ONE_YEAR_MS,
        httpOnly: true,
        sameSite: 'lax',
        secure: options.secureCookies,
      });
    } else {
      locale = rememberedLocale(req.headers.cookie) ?? negotiate(req.acceptsLanguages(...LOCALES, 'zh'));
    }
    req.locale = locale;
    res.locals.locale = locale;
    res.locals.t = translator(locale);
    res.locals.locales = LOCALES.map((code) => ({ code, name: translator(code)('languageName') }));
    next();
  };
}

function rememberedLocale(cookieHeader: string | undefined): Locale | undefined {
  const match = /(?:^|;\s*)lang=([^;]*)/.exec(cookieHeader ?? '');
  const value = match?.[1];
  return isLocale(value) ? value : undefined;
}

function negotiate(accepted: string | false): Locale {
  if (accepted === 'zh') return 'zh-CN';
  return isLocale(accepted) ? accepted : DEFAULT_LOCALE;
}
