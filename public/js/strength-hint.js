/*
 * The sign-up page's strength hint: while the person types a password, the server's
 * estimate (POST /password-strength, the same estimator sign-up applies) is shown beside
 * it, a moment after the last keystroke. A hint that could not be had is no hint; the
 * form is still checked when sent.
 *
 * window.StrengthHint($hint, $password, $username) does nothing where the page has no
 * $hint. settle() stops asking and resolves once the last hint asked for is answered: a
 * hint answered after sign-up would set the cookie of the session sign-up replaced,
 * signing the person out again, so the form waits for it.
 */
window.StrengthHint = function ($hint, $password, $username) {
  'use strict';
  var timer;
  var request;

  function show() {
    var password = String($password.val());
    if (password === '') {
      request = undefined;
      $hint.empty();
      return;
    }
    var asked = window.api.post('/password-strength', { password: password, username: String($username.val()) });
    request = asked;
    asked.then(
      function (body) {
        if (request !== asked) return; // a later keystroke asked again
        var levels = $hint.data('levels');
        var text = $hint.data('label') + ': ' + levels[body.score];
        if ($hint.data('show-feedback') === 'yes' && body.warning) text += ' — ' + body.warning;
        $hint.text(text).toggleClass('text-danger', !body.acceptable).toggleClass('text-success', body.acceptable);
      },
      function () {}
    );
  }

  if ($hint.length) {
    $password.on('input', function () {
      clearTimeout(timer);
      timer = setTimeout(show, 300);
    });
  }

  return {
    settle: function () {
      clearTimeout(timer);
      return Promise.resolve(request).catch(function () {});
    }
  };
};
