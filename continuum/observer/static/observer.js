// Continuum Observer: live updates of the run detail page by polling (no build step).
// Without JavaScript the page still works; only these live updates are missing.
(function () {
  "use strict";
  var table = document.getElementById("timeline");
  if (!table || !table.dataset.liveUrl) { return; }
  var url = table.dataset.liveUrl;
  var pollMs = parseInt(table.dataset.pollMs || "1000", 10);
  var lastSeq = parseInt(table.dataset.lastSeq || "0", 10);
  var stopped = false;

  function apply(update) {
    var state = document.getElementById("run-state");
    if (state && update.state) {
      state.textContent = update.state;
      state.className = "state state-" + update.state;
    }
    if (update.rows_html) {
      table.tBodies[0].insertAdjacentHTML("beforeend", update.rows_html);
    }
    lastSeq = update.last_seq;
    var count = document.getElementById("event-count");
    if (count && update.total_events !== undefined) { count.textContent = String(update.total_events); }
    table.dataset.lastSeq = String(lastSeq);
    var pending = document.getElementById("pending");
    if (pending && update.pending_html !== undefined) { pending.innerHTML = update.pending_html; }
    var outcome = document.getElementById("outcome");
    if (outcome && update.outcome_html !== undefined) { outcome.innerHTML = update.outcome_html; }
    var finished = document.getElementById("run-finished");
    if (finished && update.finished) { finished.textContent = update.finished; }
    var owner = document.getElementById("lease-owner");
    if (owner) { owner.textContent = update.lease_owner || "\u2014"; }
    var actions = document.getElementById("actions");
    if (actions) { actions.hidden = !!update.terminal; }
    if (update.terminal && !update.rows_html) { stopped = true; }
  }

  function poll() {
    if (stopped) { return; }
    fetch(url + "?after_seq=" + lastSeq, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (update) { if (update) { apply(update); } })
      .catch(function () { /* keep polling: the server may be restarting */ })
      .then(function () { if (!stopped) { window.setTimeout(poll, pollMs); } });
  }
  window.setTimeout(poll, pollMs);
})();
