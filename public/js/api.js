/*
 * What every page script shares: the JSON post with the page's CSRF token, its one retry
 * when that token went stale, and the messages in a page's live region.
 *
 * api.post(url, body) resolves the server's answer ({ok: true, ...}) or rejects with
 * {status, code, message, body}: the server's error code and translated message, or for
 * a request that got no answer, no code and the page's "network error" text. A post
 * refused because the page's form token went stale (the page outlived its cookie, or a
 * concurrent request wrote back a session copy without it) fetches a fresh token from the
 * path in <meta name="csrf-token-path"> and is sent once more; the refusal spent nothing.
 */
(function ($) {
  'use strict';
  var token = $('meta[name="csrf-token"]').attr('content');

  function failureOf(xhr) {
    var body = xhr.responseJSON || {};
    var error = body.error || {};
    return { status: xhr.status, code: error.code, message: error.message || $('meta[name="network-error"]').attr('content'), body: body };
  }

  function send(method, url, body) {
    return new Promise(function (resolve, reject) {
      $.ajax({
        url: url,
        method: method,
        headers: token ? { 'X-CSRF-Token': token } : {},
        contentType: body === undefined ? undefined : 'application/json',
        dataType: 'json',
        data: body === undefined ? undefined : JSON.stringify(body)
      })
        .done(resolve)
        .fail(function (xhr) {
          reject(failureOf(xhr));
        });
    });
  }

  function post(url, body) {
    return send('POST', url, body).catch(function (failure) {
      if (failure.code !== 'csrf_failed') throw failure;
      return send('GET', $('meta[name="csrf-token-path"]').attr('content')).then(
        function (fresh) {
          token = fresh.token;
          return send('POST', url, body);
        },
        function () {
          throw failure;
        }
      );
    });
  }

  /** Replaces what the live region shows with an alert; returns it, focusable (a message the person must read next takes the focus). */
  function show($region, kind, message, $action) {
    var $alert = $('<div class="alert py-2" tabindex="-1">').addClass('alert-' + kind).text(message);
    if (kind === 'danger') $alert.attr('role', 'alert');
    if ($action) $alert.append($('<div class="mt-2">').append($action));
    $region.empty().append($alert);
    return $alert;
  }

  window.api = {
    post: post,
    get: function (url) {
      return send('GET', url);
    },
    /** An error in the region, with an optional action (a button) under it. */
    showError: function ($region, message, $action) {
      return show($region, 'danger', message, $action);
    },
    /** A success message in the region. */
    showDone: function ($region, message) {
      return show($region, 'success', message);
    }
  };
})(window.jQuery);
