/*
 * "Change password" (views/password.ejs): posts {current, password, confirm} through
 * api.js. While typing, the new password's strength is shown as on the sign-up page
 * (strength-hint.js, with the account's name counted as known). A refusal
 * takes the focus with its message, and the fields it is about are cleared; success
 * empties the form and says how many other sessions were signed out.
 */
$(function () {
  'use strict';
  var $form = $('#password-form');
  var $status = $('#password-status');
  var $submit = $('#password-submit');
  var $current = $('#current-password');
  var $password = $('#new-password');
  var $confirm = $('#confirm-password');
  var $strength = $('#password-strength');
  var submitLabel = $submit.text();

  var strength = window.StrengthHint($strength, $password, $('#account-username'));

  /** The field a refusal is about, to clear: the current password's, or the new ones. */
  function fieldsOf(code) {
    if (code === 'wrong_password' || code === 'current_password_required') return $current;
    if (code === 'invalid_password' || code === 'weak_password' || code === 'passwords_differ') return $password.add($confirm);
    return $();
  }

  $form.on('submit', function (event) {
    event.preventDefault();
    if ($submit.attr('aria-disabled') === 'true') return;
    $status.empty();
    $submit.attr('aria-disabled', 'true').text($form.data('submitting'));
    var body = { password: String($password.val()), confirm: String($confirm.val()) };
    if ($current.val() !== '') body.current = String($current.val());
    window.api
      .post('/account/password', body)
      .then(
        function (answer) {
          $form[0].reset();
          // A hint still on its way would describe the password just cleared.
          strength.settle().then(function () {
            $strength.empty();
          });
          window.api.showDone($status, answer.message).trigger('focus');
        },
        function (failure) {
          fieldsOf(failure.code).val('');
          window.api.showError($status, failure.message).trigger('focus');
        }
      )
      .finally(function () {
        $submit.attr('aria-disabled', null).text(submitLabel);
      });
  });
});
