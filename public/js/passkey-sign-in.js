/*
 * Signing in with a passkey, on the sign-in page: "Sign in with a passkey" runs a ceremony
 * on demand; where the browser offers passkeys among the username field's suggestions
 * (autocomplete="username webauthn", conditional mediation), one is started at load.
 * Starting the button's ceremony aborts the autofill one (the library does); it is
 * offered again after.
 */
$(function () {
  'use strict';
  var $signIn = $('#passkey-sign-in');
  if (!window.SimpleWebAuthnBrowser || !$signIn.length) return;
  var ui = window.PasskeyUi($signIn, $('#form-status'));
  var postJson = window.api.post;

  var signInWith = function (autofill) {
    return postJson('/passkeys/sign-in/options', {})
      .then(function (body) {
        return ui.webauthn.startAuthentication({ optionsJSON: body.options, useBrowserAutofill: autofill });
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
    ui.webauthn.browserSupportsWebAuthnAutofill().then(function (supported) {
      if (!supported) return;
      signInWith(true).catch(function (failure) {
        if (!failure || !failure.refused) return;
        ui.showError(ui.messageFor(failure));
        if (autofillRestarts > 0) {
          autofillRestarts -= 1;
          startAutofill();
        }
      });
    });
  };

  $signIn.on('click', function () {
    if (!ui.begin($signIn)) return;
    signInWith(false).catch(function (failure) {
      ui.busy($signIn, false);
      var message = ui.messageFor(failure);
      if (message) ui.showError(message);
      // The button's ceremony replaced the autofill one; offer autofill again.
      startAutofill();
    });
  });
  startAutofill();
});
