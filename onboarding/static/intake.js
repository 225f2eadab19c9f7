// Progressive enhancement for the intake; every page works without it.
(function () {
  "use strict";

  // Show a question only while the answer it depends on (same page) holds. A reveal
  // sits under the answer that opens it (its radio's aria-controls), and a status line
  // tells screen readers what appeared.
  var revealStatus = document.getElementById("reveal-status");
  function toggleConditional(changed) {
    document.querySelectorAll("[data-show-if-name]").forEach(function (group) {
      var name = group.getAttribute("data-show-if-name");
      var want = group.getAttribute("data-show-if-value");
      var inputs = document.getElementsByName(name);
      var answered = false, matches = false;
      inputs.forEach(function (input) {
        if ((input.type === "radio" || input.type === "checkbox")) {
          if (input.checked) { answered = true; if (input.value === want) matches = true; }
        } else if (input.value) { answered = true; matches = input.value === want; }
      });
      var wasHidden = group.hidden;
      group.hidden = answered ? !matches : true;
      var hint = group.querySelector(".hint__condition");
      if (hint) hint.hidden = true;
      if (changed && changed.name === name && revealStatus && wasHidden && !group.hidden) {
        var count = group.querySelectorAll(".form-group").length || 1;
        revealStatus.textContent = count === 1
          ? "One more question appeared below your answer."
          : count + " more questions appeared below your answer.";
      }
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.name) toggleConditional(event.target);
  });
  toggleConditional(null);

  // Character count (GOV.UK pattern): how many characters are left, or how many too
  // many; nothing is ever cut. Screen readers hear it once typing pauses.
  document.querySelectorAll(".char-count[data-maxlength]").forEach(function (box) {
    var max = parseInt(box.getAttribute("data-maxlength"), 10);
    var field = box.querySelector("textarea");
    var message = box.querySelector(".char-count__message");
    var status = box.querySelector(".char-count__status");
    if (!field || !message || !max) return;
    var timer = null;
    var serverError = field.classList.contains("input--error");
    function words() {
      var left = max - field.value.length;
      if (left >= 0) return "You have " + left.toLocaleString("en-GB") + (left === 1 ? " character" : " characters") + " remaining";
      return "You have " + (-left).toLocaleString("en-GB") + (left === -1 ? " character" : " characters") + " too many";
    }
    function update() {
      message.textContent = words();
      var over = field.value.length > max;
      message.classList.toggle("char-count__message--over", over);
      field.classList.toggle("input--error", over || serverError);
      clearTimeout(timer);
      timer = setTimeout(function () { if (status) status.textContent = words(); }, 1000);
    }
    message.textContent = words();
    field.addEventListener("input", update);
  });

  // Move focus to the error summary (or notice) so screen readers announce it.
  var summary = document.querySelector("[data-autofocus]");
  if (summary) {
    summary.focus();
    // Scrolling to a #fragment after the page loads can take the focus away: give it back.
    window.addEventListener("load", function () {
      setTimeout(function () {
        if (document.activeElement === document.body) summary.focus();
      }, 0);
    });
  }

  // A link of the error summary puts the cursor in its field, with the field's label
  // (or its group's legend) in view, as the GOV.UK error summary does.
  document.querySelectorAll(".error-summary a[href^='#']").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target || typeof target.focus !== "function") return;
      var legend = target.closest("fieldset") && target.closest("fieldset").querySelector("legend");
      var label = document.querySelector("label[for='" + target.id + "']");
      var shown = (target.type === "radio" || target.type === "checkbox") && legend ? legend : label;
      event.preventDefault();
      (shown || target).scrollIntoView();
      target.focus({ preventScroll: true });
    });
  });

  // A form marked data-once submits once: a double click sends one request.
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        setTimeout(function () { b.disabled = true; }, 0);
      });
    });
  });

  // Answers saved as they are given (issue 26): each change posts the step's form to
  // its autosave address (CSRF as the form), a pause in typing too, and leaving the page
  // sends what is left (sendBeacon). Valid answers are stored, the others kept as typed
  // with their message for when the step opens again. Nothing moves on: the step's
  // button does that, and without JavaScript it is still what saves.
  (function () {
    var form = document.querySelector("form[data-autosave]");
    if (!form || !window.fetch || !window.FormData) return;
    var url = form.getAttribute("data-autosave");
    var status = document.getElementById("autosave-status");
    var note = document.getElementById("save-note");
    var timer = null, pending = false, said = "";
    if (note) note.textContent = "Your answers are saved as you give them.";
    function say(text) {
      if (status && text !== said) { status.textContent = text; said = text; }
    }
    function save() {
      clearTimeout(timer);
      if (!pending) return;
      pending = false;
      fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin",
                   headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (result) {
          if (!result || !result.saved) return;
          var time = new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
          say("Your answers on this page were saved at " + time + ".");
        })
        .catch(function () { pending = true; });
    }
    function changed(soon) {
      pending = true;
      clearTimeout(timer);
      timer = setTimeout(save, soon ? 0 : 1500);
    }
    form.addEventListener("change", function () { changed(true); });
    form.addEventListener("input", function (event) {
      if (event.target && (event.target.type === "text" || event.target.type === "email" ||
          event.target.type === "number" || event.target.tagName === "TEXTAREA")) changed(false);
    });
    form.addEventListener("submit", function () { clearTimeout(timer); pending = false; });
    function leaving() {
      if (!pending || !navigator.sendBeacon) return;
      pending = false;
      navigator.sendBeacon(url, new FormData(form));
    }
    window.addEventListener("pagehide", leaving);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") leaving();
    });
  })();

  // "Copy link" for the resume link.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var target = document.querySelector(button.getAttribute("data-copy"));
    if (!target || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.href).then(function () {
        var status = button.parentNode.querySelector(".copy-status");
        if (status) status.textContent = "Link copied";
      });
    });
  });

  // "We are preparing your signed copy": while the accepted or signed PDF is being made
  // (by the worker, after the page confirmed at once), ask the server every few seconds
  // and say when it is ready, with its fingerprint. The status line is role="status", so
  // screen readers announce the change. Without JavaScript the download link still works
  // (it makes the file if the worker has not) and a reload shows the fingerprint.
  (function () {
    var line = document.querySelector("[data-file-status]");
    if (!line || !window.fetch) return;
    var url = line.getAttribute("data-file-status");
    var asked = 0;

    function ready(status) {
      line.textContent = "Your signed copy is ready: the download link gives it to you. " +
        "Its SHA-256 fingerprint, to check your copy: ";
      var code = document.createElement("code");
      code.className = "hash";
      code.textContent = status.sha256;
      line.appendChild(code);
    }

    function ask() {
      asked += 1;
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (status) {
          if (status && status.ready) ready(status);
          else if (asked < 90) setTimeout(ask, 2000);
        })
        .catch(function () { if (asked < 90) setTimeout(ask, 4000); });
    }

    setTimeout(ask, 1000);
  })();
})();

/* The agreement page's options: the totals follow each tick and quantity (the form
   posts the same choice without JavaScript: "Update the total"). */
(function () {
  "use strict";
  function money(amount, symbol, code) {
    var text = amount.toLocaleString("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    return symbol && symbol !== "0.00" && symbol.indexOf(" ") < 0 && symbol.length <= 3 && symbol !== code
      ? symbol + text : text + " " + code;
  }
  function update(box) {
    var once = 0, monthly = 0;
    box.querySelectorAll(".signing-option").forEach(function (row) {
      var tick = row.querySelector('input[type="checkbox"]');
      if (!tick || !tick.checked || row.dataset.included) { return; }
      var amount = parseFloat(row.dataset.amount) || 0;
      var qty = 1, field = row.querySelector('input[type="number"]');
      if (field) {
        qty = parseInt(field.value, 10);
        if (!(qty >= 1)) { qty = 1; }
        var max = parseInt(field.max, 10);
        if (max && qty > max) { qty = max; }
      }
      if (row.dataset.per === "month") { monthly += amount * qty; } else { once += amount * qty; }
    });
    var symbol = box.dataset.currency, code = box.dataset.code;
    box.querySelector('[data-total="once"]').textContent = money(once, symbol, code);
    box.querySelector('[data-total="month"]').textContent = money(monthly, symbol, code);
  }
  document.querySelectorAll(".signing-options").forEach(function (box) {
    box.addEventListener("change", function () { update(box); });
    box.addEventListener("input", function () { update(box); });
  });
})();
