/*
 * The two-step verification page (/account/two-factor): each button posts through api.js
 * and the server answers with the section's next state as HTML (set up: the QR code, the
 * key and the code field; confirmed or renewed: the recovery codes; turned off: the off
 * state), which replaces the section's body. The focus then goes to the new state's
 * heading, or to the message saying what happened, so a keyboard or screen reader user
 * lands on what changed. Errors go to the live region and take the focus; one that asks
 * for a recent sign-in carries a button that submits the page's sign-out form.
 */
$(function () {
  'use strict';
  var $body = $('#two-factor-body');
  var $status = $('#two-factor-status');

  /** Puts the server's next state in place; focuses its heading, else a message about it. */
  function show(answer) {
    $body.html(answer.html);
    var $done = answer.message ? window.api.showDone($status, answer.message) : $();
    var $heading = $body.find('h2').first();
    ($heading.length ? $heading : $done).trigger('focus');
  }

  function fail(failure) {
    var $signInAgain =
      failure.code === 'totp_reauth_required'
        ? $('<button id="totp-reauth" type="submit" form="sign-out-form" class="btn btn-sm btn-danger">').text($status.data('reauth'))
        : undefined;
    window.api.showError($status, failure.message, $signInAgain).trigger('focus');
  }

  /** Posts for a button; the button ignores presses while its post is under way. */
  function act($button, url, body) {
    if ($button.attr('aria-disabled') === 'true') return;
    $button.attr('aria-disabled', 'true');
    $status.empty();
    window.api
      .post(url, body || {})
      .then(show, fail)
      .then(function () {
        $button.removeAttr('aria-disabled');
      });
  }

  $body.on('click', '#totp-start', function () {
    act($(this), '/account/two-factor/enrol');
  });
  $body.on('click', '#totp-regenerate', function () {
    act($(this), '/account/two-factor/recovery-codes');
  });
  $body.on('click', '#totp-disable', function () {
    act($(this), '/account/two-factor/disable');
  });
  $body.on('submit', '#totp-confirm-form', function (event) {
    event.preventDefault();
    act($('#totp-confirm'), '/account/two-factor/confirm', {
      secret: String($('#totp-secret').attr('data-secret')),
      code: String($('#totp-code').val())
    });
  });
});
