/**
 * Times as the pages write them: in UTC and saying so ("Dec 7, 2026, 9:02 AM UTC"), in the
 * page's language, with the ISO instant beside them for `<time datetime>`. The server
 * knows the person's language but not their time zone; the activity and sessions pages'
 * scripts rewrite the text in the browser's own zone.
 */
export interface TimeView {
  iso: string;
  text: string;
}

/** A formatter of instants (ms since the epoch) for `locale`. */
export function utcTimes(locale: string): (ms: number) => TimeView {
  const format = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
  return (ms) => ({ iso: new Date(ms).toISOString(), text: `${format.format(ms)} UTC` });
}
