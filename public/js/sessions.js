/*
 * "Where you're signed in" (views/sessions.ejs): sign out one session (its row's button)
 * or every one but this (the page's button), through api.js. A session that is gone
 * leaves the list; the message saying what happened takes the focus (the pressed button
 * may be gone with its row). A session another tab already signed out is gone too: its
 * refusal (404 session_not_found) says so, and its row leaves. The times the server wrote
 * in UTC are shown in the browser's own time zone and the page's language.
 */
$(function () {
  'use strict';
  var $list = $('#session-list tbody');
  var $status = $('#sessions-status');
  var $others = $('#sessions-revoke-others');
  var $onlyHere = $('#sessions-only-here');

  var format = new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: 'medium', timeStyle: 'short' });
  $('#session-list time').each(function () {
    $(this).text(format.format(new Date(String($(this).attr('datetime')))));
  });

  /** Shows whether any other session is left. */
  function update() {
    var othersLeft = $list.children('.session').not('[aria-current]').length > 0;
    $others.prop('hidden', !othersLeft);
    $onlyHere.prop('hidden', othersLeft);
  }

  function done(message) {
    update();
    window.api.showDone($status, message).trigger('focus');
  }

  function failed(failure, $button) {
    $button.prop('disabled', false);
    window.api.showError($status, failure.message).trigger('focus');
  }

  $list.on('click', '.session-revoke', function () {
    var $button = $(this);
    var $row = $button.closest('.session');
    $status.empty();
    $button.prop('disabled', true);
    window.api.post('/account/sessions/revoke', { id: String($row.attr('data-session-id')) }).then(
      function (body) {
        $row.remove();
        done(body.message);
      },
      function (failure) {
        if (failure.code === 'session_not_found') $row.remove();
        failed(failure, $button);
        update();
      }
    );
  });

  $others.on('click', function () {
    $status.empty();
    $others.prop('disabled', true);
    window.api.post('/account/sessions/revoke-others', {}).then(
      function (body) {
        $others.prop('disabled', false);
        $list.children('.session').not('[aria-current]').remove();
        done(body.message);
      },
      function (failure) {
        failed(failure, $others);
      }
    );
  });
});
