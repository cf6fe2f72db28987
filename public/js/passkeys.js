/*
 * Passkeys in the page, with @simplewebauthn/browser (served from node_modules as
 * window.SimpleWebAuthnBrowser). Each ceremony asks the server for options (a fresh,
 * server-kept challenge), lets the browser talk to the authenticator, and posts the
 * response back (api.js).
 *
 * Sign-in page: "Sign in with a passkey" runs a ceremony on demand; where the browser
 * offers passkeys among the username field's suggestions (autocomplete="username
 * webauthn", conditional mediation), one is started at load. Starting the button's
 * ceremony aborts the autofill one (the library does); it is offered again after.
 * Home page: add a passkey (optionally named), remove one. Messages go to the page's
 * live region; an error takes the focus, as on the sign-in form. Adding needs a recent
 * sign-in: when the server asks for one, the message carries a button that submits the
 * page's sign-out form (a POST), next in the tab order after the focused message.
 */
$(function () {
  'use strict';
  var webauthn = window.SimpleWebAuthnBrowser;
  var $signIn = $('#passkey-sign-in');
  var $addForm = $('#passkey-add-form');
  if (!webauthn || (!$signIn.length && !$addForm.length)) return;
  var $status = $signIn.length ? $('#form-status') : $('#passkey-status');
  var texts = ($signIn.length ? $signIn : $addForm).data();

  var postJson = window.api.post;

  /** The message for a failure, or '' for one the person caused on purpose elsewhere (an aborted ceremony). */
  function messageFor(failure) {
    if (failure && failure.status !== undefined) return failure.message;
    if (failure && failure.name === 'AbortError') return '';
    if (failure && failure.name === 'NotAllowedError') return texts.cancelled;
    return texts.error;
  }

  function showError(message, $action) {
    window.api.showError($status, message, $action).trigger('focus');
  }

  /** Marks a button busy without disabling it, so the focus stays on it; a busy button ignores presses. */
  function busy($button, waiting) {
    var label = $button.data('label') || $button.text();
    $button.data('label', label).attr('aria-disabled', waiting ? 'true' : null);
    $button.text(waiting ? texts.waiting : label);
  }

  /** Starts a ceremony from a button: false (nothing to do) while it is busy or where the browser has no passkeys. */
  function begin($button) {
    if ($button.attr('aria-disabled') === 'true') return false;
    $status.empty();
    if (!webauthn.browserSupportsWebAuthn()) {
      showError(texts.unsupported);
      return false;
    }
    busy($button, true);
    return true;
  }

  if ($signIn.length) {
    var signInWith = function (autofill) {
      return postJson('/passkeys/sign-in/options', {})
        .then(function (body) {
          return webauthn.startAuthentication({ optionsJSON: body.options, useBrowserAutofill: autofill });
        })
        .then(function (response) {
          return postJson('/passkeys/sign-in', { response: response }).catch(function (failure) {
            failure.refused = true; // the person picked a passkey and the server said no
            throw failure;
          });
        })
        .then(function (body) {
          window.location.assign(body.redirect);
        });
    };
    // Autofill is offered quietly: it says nothing unless a passkey the person picked was
    // refused, and it starts again only then (a few times per page), never after a
    // failure of its own, which would repeat at once (e.g. WebAuthn refused on an IP address).
    var autofillRestarts = 3;
    var startAutofill = function () {
      webauthn.browserSupportsWebAuthnAutofill().then(function (supported) {
        if (!supported) return;
        signInWith(true).catch(function (failure) {
          if (!failure || !failure.refused) return;
          showError(messageFor(failure));
          if (autofillRestarts > 0) {
            autofillRestarts -= 1;
            startAutofill();
          }
        });
      });
    };

    $signIn.on('click', function () {
      if (!begin($signIn)) return;
      signInWith(false).catch(function (failure) {
        busy($signIn, false);
        var message = messageFor(failure);
        if (message) showError(message);
        // The button's ceremony replaced the autofill one; offer autofill again.
        startAutofill();
      });
    });
    startAutofill();
  }

  if ($addForm.length) {
    var $add = $('#passkey-add');
    var $name = $('#passkey-name');
    var $list = $('#passkey-list');
    var $none = $('#passkeys-none');
    var showDone = function (message) {
      return window.api.showDone($status, message);
    };

    $addForm.on('submit', function (event) {
      event.preventDefault();
      if (!begin($add)) return;
      postJson('/passkeys/options', {})
        .then(function (body) {
          return webauthn.startRegistration({ optionsJSON: body.options });
        })
        .then(function (response) {
          return postJson('/passkeys', { name: String($name.val()), response: response });
        })
        .then(
          function (body) {
            busy($add, false);
            $list.append(body.html).prop('hidden', false);
            $none.prop('hidden', true);
            $name.val('');
            showDone(body.message);
          },
          function (failure) {
            busy($add, false);
            var $signInAgain =
              failure.code === 'reauth_required'
                ? $('<button id="passkey-reauth" type="submit" form="sign-out-form" class="btn btn-sm btn-danger">').text(texts.reauth)
                : undefined;
            showError(messageFor(failure) || texts.error, $signInAgain);
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
          showError(messageFor(failure) || texts.error);
        },
      );
    });
  }
});
