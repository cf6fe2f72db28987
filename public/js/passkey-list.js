/*
 * The home page's passkeys: add one (optionally named), remove one. Adding needs a recent
 * sign-in: when the server asks for one, the message carries a button that submits the
 * page's sign-out form (a POST), next in the tab order after the focused message.
 */
$(function () {
  'use strict';
  var $addForm = $('#passkey-add-form');
  if (!window.SimpleWebAuthnBrowser || !$addForm.length) return;
  var $status = $('#passkey-status');
  var ui = window.PasskeyUi($addForm, $status);
  var postJson = window.api.post;

  var $add = $('#passkey-add');
  var $name = $('#passkey-name');
  var $list = $('#passkey-list');
  var $none = $('#passkeys-none');
  var showDone = function (message) {
    return window.api.showDone($status, message);
  };

  $addForm.on('submit', function (event) {
    event.preventDefault();
    if (!ui.begin($add)) return;
    postJson('/passkeys/options', {})
      .then(function (body) {
        return ui.webauthn.startRegistration({ optionsJSON: body.options });
      })
      .then(function (response) {
        return postJson('/passkeys', { name: String($name.val()), response: response });
      })
      .then(
        function (body) {
          ui.busy($add, false);
          $list.append(body.html).prop('hidden', false);
          $none.prop('hidden', true);
          $name.val('');
          showDone(body.message);
        },
        function (failure) {
          ui.busy($add, false);
          var $signInAgain =
            failure.code === 'reauth_required'
              ? $('<button id="passkey-reauth" type="submit" form="sign-out-form" class="btn btn-sm btn-danger">').text(ui.texts.reauth)
              : undefined;
          ui.showError(ui.messageFor(failure) || ui.texts.error, $signInAgain);
        },
      );
  });

  $list.on('click', '.passkey-remove', function () {
    var $button = $(this);
    var $row = $button.closest('.passkey');
    $status.empty();
    $button.prop('disabled', true);
    postJson('/passkeys/remove', { id: String($row.attr('data-passkey-id')) }).then(
      function (body) {
        $row.remove();
        var empty = $list.children().length === 0;
        $list.prop('hidden', empty);
        $none.prop('hidden', !empty);
        // The pressed button is gone: the focus goes to the message saying what happened.
        showDone(body.message).trigger('focus');
      },
      function (failure) {
        $button.prop('disabled', false);
        ui.showError(ui.messageFor(failure) || ui.texts.error);
      },
    );
  });
});
