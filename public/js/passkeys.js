/*
 * Passkeys in the page, with @simplewebauthn/browser (served from node_modules as
 * window.SimpleWebAuthnBrowser). Each ceremony asks the server for options (a fresh,
 * server-kept challenge), lets the browser talk to the authenticator, and posts the
 * response back as JSON with the page's CSRF token.
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

  $.ajaxSetup({ headers: { 'X-CSRF-Token': $('meta[name="csrf-token"]').attr('content') } });

  function postJson(url, body, retried) {
    return new Promise(function (resolve, reject) {
      $.ajax({ url: url, method: 'POST', contentType: 'application/json', dataType: 'json', data: JSON.stringify(body) })
        .done(resolve)
        .fail(function (xhr) {
          reject({ xhr: xhr });
        });
    }).catch(function (failure) {
      // A page whose form token went stale (it outlived the page cookie, or a concurrent
      // request wrote back a session copy without it) fetches a fresh one and retries once.
      var error = errorOf(failure);
      var tokenPath = $('[data-csrf-token-path]').data('csrf-token-path');
      if (retried || !tokenPath || !error || error.code !== 'csrf_failed') throw failure;
      return new Promise(function (resolve, reject) {
        $.ajax({ url: tokenPath, dataType: 'json' }).done(resolve).fail(function () {
          reject(failure);
        });
      }).then(function (fresh) {
        $.ajaxSetup({ headers: { 'X-CSRF-Token': fresh.token } });
        return postJson(url, body, true);
      });
    });
  }

  /** The server's error ({code, message}) of a failed post, if it sent one. */
  function errorOf(failure) {
    return failure && failure.xhr && failure.xhr.responseJSON && failure.xhr.responseJSON.error;
  }

  /** The message for a failure, or '' for one the person caused on purpose elsewhere (an aborted ceremony). */
  function messageFor(failure) {
    if (failure && failure.xhr) {
      var error = errorOf(failure);
      return error && error.message ? error.message : $('[data-network-error]').data('network-error');
    }
    if (failure && failure.name === 'AbortError') return '';
    if (failure && failure.name === 'NotAllowedError') return texts.cancelled;
    return texts.error;
  }

  function showError(message, $action) {
    var $alert = $('<div class="alert alert-danger py-2" role="alert" tabindex="-1">').text(message);
    if ($action) $alert.append($('<div class="mt-2">').append($action));
    $status.empty().append($alert);
    $alert.trigger('focus');
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
      var $done = $('<div class="alert alert-success py-2" tabindex="-1">').text(message);
      $status.empty().append($done);
      return $done;
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
              (errorOf(failure) || {}).code === 'reauth_required'
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
