/*
 * The audio captcha. "Listen" plays the page's challenge spoken (the same challenge as the
 * picture, so one answer fits both) and puts the focus back in the answer field, so the
 * person types while listening; a status line, announced politely, says that the sound is
 * playing, has finished or could not be loaded. Whenever the picture changes (a new
 * picture, or the one loaded after a failed attempt) the sound stops and the next
 * "Listen" fetches the new challenge's sound.
 */
$(function () {
  'use strict';
  var audio = document.getElementById('captcha-audio');
  if (!audio) return;
  var image = document.getElementById('captcha-image');
  var $status = $('#captcha-audio-status');
  var $captcha = $('#captcha');
  var loads = 0;
  var soundOf = null; // the picture whose challenge the loaded sound speaks

  function say(key, isError) {
    $status.text(key ? $status.data(key) : '').toggleClass('text-danger', Boolean(isError));
  }

  function play() {
    var picture = image.getAttribute('src');
    if (soundOf !== picture) {
      loads += 1;
      audio.src = audio.getAttribute('data-src') + '&n=' + Date.now().toString(36) + '-' + loads;
      soundOf = picture;
    } else {
      audio.currentTime = 0;
    }
    // A failure is reported by the element's error event.
    audio.play().catch(function () {});
  }

  $('#captcha-listen').on('click', function () {
    $captcha.trigger('focus');
    // The server speaks the session's challenge for this page: a picture still loading
    // is a challenge still being issued, so wait for it.
    if (image.complete) play();
    else $(image).one('load error', play);
  });

  audio.addEventListener('playing', function () {
    say('playing');
  });
  audio.addEventListener('ended', function () {
    say('ended');
  });
  audio.addEventListener('error', function () {
    // Forget the failed sound (a 429 from the shared per-IP limit, a lost connection), so
    // the next Listen fetches it again instead of replaying what never loaded.
    soundOf = null;
    if (audio.getAttribute('src')) say('error', true);
  });

  new window.MutationObserver(function () {
    audio.pause();
    audio.removeAttribute('src');
    audio.load();
    soundOf = null;
    say('');
  }).observe(image, { attributes: true, attributeFilter: ['src'] });
});
