/*
 * Recent activity on the home page: the server writes each event's time in UTC (it does
 * not know the person's time zone); here it is rewritten in the browser's own zone and
 * the page's language, with the zone named. Without this script the UTC text stays.
 */
(function () {
  'use strict';
  var format = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZoneName: 'short',
  });
  var times = document.querySelectorAll('time.activity-time');
  for (var i = 0; i < times.length; i += 1) {
    var at = new Date(times[i].getAttribute('datetime'));
    if (!isNaN(at.getTime())) times[i].textContent = format.format(at);
  }
})();
