// Nothing lost in the workspace (issue 26); every form works without it.
// 1. A minute before the session lapses for inactivity, a dialog says so and offers to
//    stay signed in (it asks the server first: another tab may have kept it going).
// 2. Leaving a form with changes not saved asks first (not after its own submit).
(function () {
  "use strict";

  var clock = document.getElementById("session-clock");
  var dialog = document.getElementById("session-dialog");
  if (clock && dialog && window.fetch && typeof dialog.showModal === "function") {
    var url = clock.getAttribute("data-url");
    var token = clock.getAttribute("data-csrf");
    var text = document.getElementById("session-dialog-text");
    var stay = document.getElementById("session-stay");
    var close = document.getElementById("session-close");
    var timer = null, countdown = null, endsAt = 0;

    function words(seconds) {
      return seconds === 1 ? "1 second" : seconds + " seconds";
    }
    function ended() {
      clearInterval(countdown);
      text.textContent = "Your session has ended. When you save, you will be asked to " +
        "sign in again; the agreement's terms, the agency profile and the send page then " +
        "come back with what you typed.";
      stay.hidden = true;
      close.textContent = "Close";
    }
    function tick() {
      var left = Math.round((endsAt - Date.now()) / 1000);
      if (left <= 0) { ended(); return; }
      text.textContent = "For your security, your session ends in " + words(left) +
        " unless you stay signed in.";
    }
    function warn(left) {
      endsAt = Date.now() + left * 1000;
      stay.hidden = false;
      close.textContent = "Not now";
      tick();
      clearInterval(countdown);
      countdown = setInterval(tick, 1000);
      if (!dialog.open) dialog.showModal();
      stay.focus();
    }
    function schedule(left) {
      clearTimeout(timer);
      timer = setTimeout(check, Math.max(0, left - 60) * 1000);
    }
    function ask(method) {
      var options = { method: method, credentials: "same-origin",
                      headers: { "Accept": "application/json" } };
      if (method === "POST") options.headers["X-CSRFToken"] = token;
      return fetch(url, options).then(function (response) {
        return response.json().catch(function () { return { signed_in: false }; });
      });
    }
    function check() {
      ask("GET").then(function (state) {
        if (!state.signed_in) { warn(0); ended(); return; }
        if (state.seconds_left > 65) schedule(state.seconds_left);
        else warn(state.seconds_left);
      }).catch(function () { schedule(120); });
    }
    stay.addEventListener("click", function () {
      ask("POST").then(function (state) {
        if (!state.signed_in) { ended(); return; }
        clearInterval(countdown);
        dialog.close();
        var status = document.getElementById("session-status");
        if (status) status.textContent = "You are still signed in.";
        schedule(state.seconds_left);
      }).catch(ended);
    });
    close.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () { clearInterval(countdown); });
    schedule(parseInt(clock.getAttribute("data-seconds-left"), 10) || 0);
  }

  // Forms with changes not saved: the browser asks before the page is left. A form the
  // server sent back unsaved (a refused save, a form kept when a session lapsed) counts
  // as changed from the start.
  var dirty = [];
  document.querySelectorAll("main form[method=post]").forEach(function (form) {
    if (form.hasAttribute("data-no-warn")) return;
    if (form.hasAttribute("data-unsaved")) dirty.push(form);
    function changed(event) {
      if (event.target && event.target.type === "hidden") return;
      if (dirty.indexOf(form) < 0) dirty.push(form);
    }
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    form.addEventListener("submit", function () {
      dirty = dirty.filter(function (f) { return f !== form; });
    });
  });
  window.addEventListener("beforeunload", function (event) {
    if (!dirty.length) return undefined;
    event.preventDefault();
    event.returnValue = "";
    return "";
  });
})();
