/*
 * The sign-in and sign-up forms: send them as JSON (api.js: the CSRF token and its one
 * retry), show the server's message in the live region and focus it, then load a new
 * captcha after every failure (the old one is spent). The image is tied to this page by
 * its id in the picture's URL (data-captcha-image-url, the server's); a picture that fails
 * to load says so in the live region. On sign-up, the password's strength is shown as a hint
 * while the person types (strength-hint.js), and every try sends the page's sign-up key: a try answered 503
 * may have made the account, and the key lets a retry of this form complete it instead of
 * hearing that the name is taken.
 *
 * In attack mode the post carries a proof of work (pow.js solves it while the person
 * types; the post waits for it). A post refused for want of one (428 pow_required, or 400
 * pow_invalid) brings a fresh challenge: it is solved and the same form sent once more,
 * since such a refusal leaves the captcha unspent. After any other failure but "busy"
 * (sign_in_busy, refused before anything was spent) a new picture and the next proof of
 * work are asked for, as the ones sent were spent.
 *
 * Sign-in with two-step verification: a right password is answered {step: 'code'}; the
 * password step is hidden and the code step (code-step.js) shown in its place. When the
 * server dropped the pending sign-in (too slow, too many wrong codes) the password step
 * comes back, with a new picture and the server's message.
 */
$(function () {
  'use strict';
  var $form = $('#auth-form');
  var $image = $('#captcha-image');
  var $captcha = $('#captcha');
  var $submit = $('#submit');
  var $status = $('#form-status');
  var captchaId = String($form.data('captcha-id'));
  var imageUrl = String($form.data('captcha-image-url'));
  // attr, not data: jQuery's data() would turn a key of digits into a number.
  var signupKey = $form.attr('data-signup-key');
  var pow = new window.PowCheck($('#pow-status'), $('#pow-help'), String($form.data('pow-challenge-path')), String($form.data('pow-worker')));
  pow.refresh();
  var submitLabel = $submit.text();
  var loads = 0;

  function refreshCaptcha() {
    loads += 1;
    $image.attr('src', imageUrl + '&n=' + Date.now().toString(36) + '-' + loads);
    $captcha.val('');
  }

  // A picture refused by the server (per-IP limit) or lost on the way would otherwise show
  // as a broken image with no word why; the message goes once a picture loads again.
  $image.on('error', function () {
    window.api.showError($status, $form.data('image-error')).addClass('captcha-image-error');
  });
  $image.on('load', function () {
    $status.find('.captcha-image-error').remove();
  });

  $image.on('click', function () {
    refreshCaptcha();
    $captcha.trigger('focus');
  });
  $('#captcha-refresh').on('click', function () {
    refreshCaptcha();
    $captcha.trigger('focus');
  });

  var strength = window.StrengthHint($('#password-strength'), $('#password'), $('#username'));

  function fail(failure) {
    window.api.showError($status, failure.message).trigger('focus');
    // "Busy, try again in N s" spent nothing: the picture, its answer and the proof of work stay good.
    if (failure.code !== 'sign_in_busy') {
      refreshCaptcha();
      pow.refresh();
    }
    $submit.prop('disabled', false).text(submitLabel);
  }

  /** Sends the form once the proof of work (if any) is ready. */
  function sendWhenReady(powRetried) {
    pow.ready().then(
      function (payload) {
        send(powRetried, payload);
      },
      function () {
        // The check could not run here (#pow-status says why): the form stays as it is.
        $submit.prop('disabled', false).text(submitLabel);
      }
    );
  }

  function send(powRetried, payload) {
    window.api
      .post($form.attr('action'), {
        username: $('#username').val(),
        password: $('#password').val(),
        captcha: $captcha.val(),
        captchaId: captchaId,
        signupKey: signupKey,
        pow: payload
      })
      .then(
        function (body) {
          if (body.step === 'code') {
            $('#password-step').prop('hidden', true);
            codeStep.show();
          }
          else window.location.assign(body.redirect);
        },
        function (failure) {
          var powRefused = failure.code === 'pow_required' || failure.code === 'pow_invalid';
          if (powRefused && !powRetried && failure.body.pow) {
            pow.solve(failure.body.pow.challenge);
            sendWhenReady(true);
            return;
          }
          fail(failure);
        }
      );
  }

  $form.on('submit', function (event) {
    event.preventDefault();
    $status.empty();
    $submit.prop('disabled', true).text($form.data('busy-label'));
    // A strength hint answered after sign-up would set the cookie of the session sign-up
    // replaced, signing the person out again: no new hint, and sign-up waits for one on its way.
    strength.settle().then(function () {
      sendWhenReady(false);
    });
  });

  /** Back to the password after the server dropped the pending sign-in; its captcha and proof of work were spent. */
  var codeStep = window.CodeStep($('#code-form'), function (message) {
    $('#password-step').prop('hidden', false);
    $('#password').val('');
    refreshCaptcha();
    pow.refresh();
    $submit.prop('disabled', false).text(submitLabel);
    window.api.showError($status, message).trigger('focus');
  });
});
