/*
 * The sign-in and sign-up forms: send them as JSON with jQuery (with the page's CSRF
 * token in a header), show the server's message in the live region and focus it, then
 * load a new captcha after every failure (the old one is spent). The image is tied to
 * this page by data-captcha-id; a picture that fails to load says so in the live region.
 * A post refused because the page's token went stale (the page outlived its token) is
 * retried once with a fresh token, so the person sees nothing of it; the captcha was not
 * spent by the refused post. On sign-up, the password's strength is shown as a hint
 * while the person types, and every try sends the page's sign-up key: a try answered 503
 * may have made the account, and the key lets a retry of this form complete it instead of
 * hearing that the name is taken.
 *
 * In attack mode the post carries a proof of work (pow.js solves it while the person
 * types; the post waits for it). A post refused for want of one (428 pow_required, or 400
 * pow_invalid) brings a fresh challenge: it is solved and the same form sent once more,
 * since such a refusal leaves the captcha unspent. After any other failure but "busy"
 * (sign_in_busy, refused before anything was spent) a new picture and the next proof of
 * work are asked for, as the ones sent were spent.
 */
$(function () {
  'use strict';
  var $form = $('#auth-form');
  var $image = $('#captcha-image');
  var $captcha = $('#captcha');
  var $submit = $('#submit');
  var $status = $('#form-status');
  var captchaId = String($form.data('captcha-id'));
  // attr, not data: jQuery's data() would turn a key of digits into a number.
  var signupKey = $form.attr('data-signup-key');
  var pow = new window.PowCheck($('#pow-status'), $('#pow-help'), String($form.data('pow-challenge-path')), String($form.data('pow-worker')));
  pow.refresh();
  var submitLabel = $submit.text();
  var loads = 0;

  function useToken(token) {
    $.ajaxSetup({ headers: { 'X-CSRF-Token': token } });
  }
  useToken($('meta[name="csrf-token"]').attr('content'));

  function refreshCaptcha() {
    loads += 1;
    $image.attr('src', '/get_validCode_img?id=' + encodeURIComponent(captchaId) + '&n=' + Date.now().toString(36) + '-' + loads);
    $captcha.val('');
  }

  function showError(message, kind) {
    var $alert = $('<div class="alert alert-danger py-2" role="alert" tabindex="-1">').addClass(kind || '').text(message);
    $status.empty().append($alert);
    return $alert;
  }

  // A picture refused by the server (per-IP limit) or lost on the way would otherwise show
  // as a broken image with no word why; the message goes once a picture loads again.
  $image.on('error', function () {
    showError($form.data('image-error'), 'captcha-image-error');
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

  var $strength = $('#password-strength');
  var strengthTimer;
  var strengthRequest;
  function showStrength() {
    var password = String($('#password').val());
    if (strengthRequest) strengthRequest.abort();
    if (password === '') {
      $strength.empty();
      return;
    }
    strengthRequest = $.ajax({
      url: '/password-strength',
      method: 'POST',
      contentType: 'application/json',
      dataType: 'json',
      data: JSON.stringify({ password: password, username: String($('#username').val()) })
    }).done(function (body) {
      var levels = $strength.data('levels');
      var text = $strength.data('label') + ': ' + levels[body.score];
      if ($strength.data('show-feedback') === 'yes' && body.warning) text += ' — ' + body.warning;
      $strength.text(text).toggleClass('text-danger', !body.acceptable).toggleClass('text-success', body.acceptable);
    });
  }
  if ($strength.length) {
    $('#password').on('input', function () {
      clearTimeout(strengthTimer);
      strengthTimer = setTimeout(showStrength, 300);
    });
  }

  function fail(xhr) {
    var error = xhr.responseJSON && xhr.responseJSON.error;
    showError(error && error.message ? error.message : $form.data('network-error')).trigger('focus');
    // "Busy, try again in N s" spent nothing: the picture, its answer and the proof of work stay good.
    if (!error || error.code !== 'sign_in_busy') {
      refreshCaptcha();
      pow.refresh();
    }
    $submit.prop('disabled', false).text(submitLabel);
  }

  /** Sends the form once the proof of work (if any) is ready. */
  function sendWhenReady(retried, powRetried) {
    pow.ready().then(
      function (payload) {
        send(retried, powRetried, payload);
      },
      function () {
        // The check could not run here (#pow-status says why): the form stays as it is.
        $submit.prop('disabled', false).text(submitLabel);
      },
    );
  }

  function send(retried, powRetried, payload) {
    $.ajax({
      url: $form.attr('action'),
      method: 'POST',
      contentType: 'application/json',
      dataType: 'json',
      data: JSON.stringify({
        username: $('#username').val(),
        password: $('#password').val(),
        captcha: $captcha.val(),
        captchaId: captchaId,
        signupKey: signupKey,
        pow: payload
      })
    })
      .done(function (body) {
        window.location.assign(body.redirect);
      })
      .fail(function (xhr) {
        var body = xhr.responseJSON;
        var error = body && body.error;
        var powRefused = error && (error.code === 'pow_required' || error.code === 'pow_invalid');
        if (powRefused && !powRetried && body.pow) {
          pow.solve(body.pow.challenge);
          sendWhenReady(retried, true);
          return;
        }
        if (retried || !error || error.code !== 'csrf_failed') {
          fail(xhr);
          return;
        }
        $.ajax({ url: $form.data('csrf-token-path'), dataType: 'json' })
          .done(function (body) {
            useToken(body.token);
            send(true, powRetried, payload);
          })
          .fail(function () {
            fail(xhr);
          });
      });
  }

  $form.on('submit', function (event) {
    event.preventDefault();
    $status.empty();
    $submit.prop('disabled', true).text($form.data('busy-label'));
    // A strength hint answered after sign-up would set the cookie of the session sign-up
    // replaced, signing the person out again: no new hint, and sign-up waits for one on its way.
    clearTimeout(strengthTimer);
    $.when(strengthRequest).always(function () {
      sendWhenReady(false, false);
    });
  });
});
