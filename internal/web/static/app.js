// forgehook UI: the pages work without this script. It adds live refresh
// of the views marked data-live (paused while the tab is hidden), asks
// before a replay, "select all" for dead letters, and copy buttons.
(function () {
  'use strict';

  var interval = parseInt(document.body.getAttribute('data-refresh'), 10) || 5000;

  // Ask before any form or button marked data-confirm is submitted.
  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    var btn = ev.submitter || null;
    if (btn && btn.id === 'replay-selected' && !form.querySelector('input[name="sel"]:checked')) {
      ev.preventDefault();
      window.alert('Tick the dead letters to replay first.');
      return;
    }
    var msg = (btn && btn.getAttribute('data-confirm')) || form.getAttribute('data-confirm');
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
    }
  });

  // A checkbox data-select-all="name" ticks every checkbox of that name.
  document.addEventListener('change', function (ev) {
    var all = ev.target;
    var name = all.getAttribute && all.getAttribute('data-select-all');
    if (!name || !all.form) return;
    all.form.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (cb) {
      cb.checked = all.checked;
    });
  });

  // Copy buttons (hidden without this script).
  document.querySelectorAll('button.copy[data-copy]').forEach(function (btn) {
    btn.hidden = false;
    btn.addEventListener('click', function () {
      var text = btn.getAttribute('data-copy');
      var done = function () { btn.textContent = 'Copied'; setTimeout(function () { btn.textContent = 'Copy'; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done);
        return;
      }
      var input = btn.parentNode.querySelector('input.url');
      if (input) { input.select(); document.execCommand('copy'); done(); }
    });
  });

  // Live refresh: an element with data-live="URL" has its content replaced
  // by URL's answer every few seconds while the tab is visible. The server
  // ends it with the header X-Forgehook-Live: stop.
  var status = document.getElementById('live-status');
  function setStatus(text) { if (status) status.textContent = text; }

  // busy reports that the reader is using the view: an open <details>, a
  // ticked box or a focused control would be lost by a refresh.
  function busy(el) {
    if (el.querySelector('details[open], input[type="checkbox"]:checked')) return true;
    var a = document.activeElement;
    return a && a !== document.body && el.contains(a) && a.tagName !== 'A';
  }

  function live(el) {
    var url = el.getAttribute('data-live');
    var timer = null;
    var stopped = false;
    var inflight = false;
    function schedule() { if (!stopped && timer === null) timer = setTimeout(tick, interval); }
    function tick() {
      timer = null;
      if (document.hidden) { setStatus('live refresh paused'); return; }
      inflight = true;
      fetch(url, { credentials: 'same-origin', cache: 'no-store', headers: { 'Accept': 'text/html' } })
        .then(function (resp) {
          if (resp.status === 401) {
            stopped = true;
            setStatus('session ended: reload the page to log in');
            return null;
          }
          if (!resp.ok) throw new Error('HTTP ' + resp.status);
          if (resp.headers.get('X-Forgehook-Live') === 'stop') stopped = true;
          return resp.text();
        })
        .then(function (html) {
          inflight = false;
          if (html === null) return;
          if (!busy(el)) el.innerHTML = html;
          setStatus('live · updated ' + new Date().toLocaleTimeString());
          schedule();
        })
        .catch(function (err) {
          inflight = false;
          setStatus('live refresh failed (' + err.message + '); retrying');
          schedule();
        });
    }
    document.addEventListener('visibilitychange', function () {
      if (!document.hidden && !stopped && !inflight && timer === null) tick();
    });
    setStatus('live');
    schedule();
  }
  document.querySelectorAll('[data-live]').forEach(live);
})();
