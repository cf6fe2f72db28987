/*
 * The sign-in's code step (two-step verification), after a right password: the code field
 * is shown in the password step's place and focused (its description says the password
 * was right). "Use a recovery code instead" makes the field one for a recovery code
 * (letters: a text keyboard, no one-time-code autofill) and back. A wrong code says so and
 * empties the field; a right one goes where the server says.
 *
 * window.CodeStep($form, onDropped): show() opens the step; onDropped(message) is called
 * when the server dropped the pending sign-in (too slow, too many wrong codes), after the
 * step is hidden, for the page to ask for the password again.
 */
window.CodeStep = function ($form, onDropped) {
  'use strict';
  var $code = $form.find('#code');
  var $submit = $form.find('#code-submit');
  var $status = $form.find('#code-status');
  var $switch = $form.find('#code-switch');
  var submitLabel = $submit.text();
  var recoveryMode = false;

  $switch.on('click', function () {
    recoveryMode = !recoveryMode;
    var mode = recoveryMode ? 'recovery' : 'app';
    $form.find('#code-label').text($form.data(mode + '-label'));
    $form.find('#code-help').text($form.data(mode + '-help'));
    $switch.text($form.data(mode + '-switch'));
    $code
      .attr({ inputmode: recoveryMode ? 'text' : 'numeric', autocomplete: recoveryMode ? 'off' : 'one-time-code' })
      .val('')
      .trigger('focus');
  });

  $form.on('submit', function (event) {
    event.preventDefault();
    if ($submit.prop('disabled')) return;
    $status.empty();
    $submit.prop('disabled', true).text($form.data('busy-label'));
    window.api.post($form.attr('action'), { code: String($code.val()) }).then(
      function (body) {
        window.location.assign(body.redirect);
      },
      function (failure) {
        $submit.prop('disabled', false).text(submitLabel);
        if (failure.code === 'totp_step_expired') {
          $form.prop('hidden', true);
          $status.empty();
          onDropped(failure.message);
          return;
        }
        $code.val('');
        window.api.showError($status, failure.message).trigger('focus');
      }
    );
  });

  return {
    show: function () {
      $form.prop('hidden', false);
      $code.val('').trigger('focus');
    }
  };
};
