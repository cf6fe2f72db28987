/*
 * The proof of work of attack mode, for the sign-in and sign-up forms (auth-form.js).
 * It asks /pow-challenge on load whether one is needed; when it is, module workers
 * (pow-worker.js, one per core up to 4) solve the challenge while the person types, and
 * #pow-status (role=status, so screen readers announce it politely) shows the progress
 * in steps of 20 % and then "done". ready() gives the payload to send (base64 of JSON
 * {challenge, solution}, as ALTCHA v2 clients send it), or nothing when none is needed;
 * if the solution is not ready yet it says so and waits. A challenge a refusal carried is
 * solved with solve(); after a post that spent one, refresh() asks for the next.
 */
window.PowCheck = (function () {
  'use strict';
  var STEP_PERCENT = 20;
  var MAX_WORKERS = 4;

  function PowCheck($status, $help, challengePath, workerUrl) {
    this.$status = $status;
    this.$help = $help;
    this.challengePath = challengePath;
    this.workerUrl = workerUrl;
    this.workers = [];
    this.pending = null; // a jQuery Deferred: the payload to send, or undefined
    this.waiting = false; // the person sent the form and waits for the solution
    this.percent = 0;
  }

  PowCheck.prototype.say = function (key, percent) {
    var text = String(this.$status.data(key));
    this.$status.text(percent === undefined ? text : text.replace('{percent}', String(percent)));
  };

  PowCheck.prototype.sayProgress = function () {
    this.say(this.waiting ? 'waiting' : 'checking', this.percent);
  };

  PowCheck.prototype.stop = function () {
    this.workers.forEach(function (worker) {
      worker.terminate();
    });
    this.workers = [];
  };

  /** Asks whether a proof of work is needed now, and starts solving the challenge if so. */
  PowCheck.prototype.refresh = function () {
    var self = this;
    var pending = $.Deferred();
    self.stop();
    self.pending = pending;
    self.waiting = false;
    $.ajax({ url: self.challengePath, dataType: 'json' })
      .done(function (body) {
        if (self.pending !== pending) return;
        if (body.required) {
          self.solve(body.challenge);
          // The person may have sent the form already: the new check takes over that wait.
          self.pending.then(pending.resolve, pending.reject);
          return;
        }
        self.$help.prop('hidden', true);
        self.$status.text('');
        pending.resolve(undefined);
      })
      .fail(function () {
        // Unknown: send without one; a refusal brings a challenge (solve()).
        if (self.pending === pending) pending.resolve(undefined);
      });
  };

  /** Solves `challenge` in workers; ready() resolves with the payload once one finds it. */
  PowCheck.prototype.solve = function (challenge) {
    var self = this;
    var pending = $.Deferred();
    var data = challenge.parameters.data || {};
    var limit = Number(data.counterMax) || 4294967296;
    var count = Math.max(1, Math.min(navigator.hardwareConcurrency || 1, MAX_WORKERS));
    var tried = 0;
    var exhausted = 0;
    self.stop();
    self.pending = pending;
    self.percent = 0;
    self.$help.prop('hidden', false);
    self.sayProgress();
    function failed() {
      if (self.pending !== pending) return;
      self.stop();
      self.say('error');
      pending.reject();
    }
    for (var i = 0; i < count; i += 1) {
      var worker;
      try {
        worker = new Worker(self.workerUrl, { type: 'module' });
      } catch {
        failed();
        return;
      }
      self.workers.push(worker);
      worker.onerror = failed;
      worker.onmessage = function (event) {
        var message = event.data;
        if (self.pending !== pending) return;
        if (message.type === 'progress') {
          tried += message.tried;
          // Announced in steps, so a screen reader is not talked over; never 100 % before the end.
          var percent = Math.min(99, Math.floor((100 * tried) / limit / STEP_PERCENT) * STEP_PERCENT);
          if (percent > self.percent) {
            self.percent = percent;
            self.sayProgress();
          }
        } else if (message.type === 'solved') {
          self.stop();
          self.waiting = false;
          self.say('done');
          pending.resolve(btoa(JSON.stringify({ challenge: challenge, solution: message.solution })));
        } else if (message.type === 'exhausted') {
          // Its share of the counters held no solution: another worker's does, unless none is left.
          exhausted += 1;
          if (exhausted === count) failed();
        } else {
          failed();
        }
      };
      worker.postMessage({ challenge: challenge, start: i, step: count, limit: limit });
    }
  };

  /** The payload to send (undefined when none is needed); says so when the person has to wait for it. */
  PowCheck.prototype.ready = function () {
    var pending = this.pending || $.Deferred().resolve(undefined);
    if (pending.state() === 'pending') {
      this.waiting = true;
      this.sayProgress();
    }
    return pending.promise();
  };

  return PowCheck;
})();
