/*
 * What the passkey page scripts share (passkey-sign-in.js on the sign-in page,
 * passkey-list.js on the home page), with @simplewebauthn/browser (served from
 * node_modules as window.SimpleWebAuthnBrowser): each ceremony asks the server for
 * options (a fresh, server-kept challenge), lets the browser talk to the authenticator,
 * and posts the response back (api.js). Messages go to the page's live region; an error
 * takes the focus, as on the sign-in form. A button busy with a ceremony keeps the focus
 * and ignores presses.
 *
 * window.PasskeyUi($texts, $status): the texts come from $texts' data-* attributes (the
 * sign-in button's, or the add form's); messages go to $status.
 */
window.PasskeyUi = function ($texts, $status) {
  'use strict';
  var webauthn = window.SimpleWebAuthnBrowser;
  var texts = $texts.data();

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

  return { webauthn: webauthn, texts: texts, messageFor: messageFor, showError: showError, busy: busy, begin: begin };
};
