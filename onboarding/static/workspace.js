// Progressive enhancement for the workspace; every form works without it.
(function () {
  "use strict";

  // An error summary takes focus, so screen readers announce it; its links put the
  // cursor in their field with the field's label in view.
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
  document.querySelectorAll(".error-summary a[href^='#']").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target || typeof target.focus !== "function") return;
      var label = document.querySelector("label[for='" + target.id + "']");
      event.preventDefault();
      (label || target).scrollIntoView();
      target.focus({ preventScroll: true });
    });
  });

  function post(form) {
    return fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Requested-With": "fetch", "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    });
  }

  // Ticking an action: no reload, so the scroll and the focus stay where they are.
  document.querySelectorAll("form[data-check]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button");
      var field = form.querySelector("input[name=done]");
      var item = form.closest("li");
      post(form).then(function (result) {
        if (!result.ok) { form.submit(); return; }
        var done = result.data.done;
        field.value = done ? "0" : "1";
        button.setAttribute("aria-pressed", done ? "true" : "false");
        button.classList.toggle("check-button--done", done);
        button.querySelector(".check-button__mark").textContent = done ? "✓" : "";
        var text = item.querySelector("[id$='-text']");
        if (text) text.classList.toggle("done-text", done);
        var meta = item.querySelector("[id$='-meta']");
        if (meta) meta.textContent = meta.textContent.split(" · ")[0] + " · " + result.data.meta;
      }).catch(function () { form.submit(); });
    });
  });

  // Adding a note: it appears at the top of the list, the box empties, focus stays.
  document.querySelectorAll("form[data-note]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var box = form.querySelector("textarea");
      if (!box.value.trim()) return; // the server explains, at the field
      event.preventDefault();
      post(form).then(function (result) {
        if (!result.ok) { form.submit(); return; }
        var list = document.getElementById("note-list");
        var note = document.createElement("div");
        note.className = "note";
        var text = document.createElement("p");
        text.textContent = result.data.text;
        var meta = document.createElement("p");
        meta.className = "meta";
        meta.textContent = result.data.meta;
        note.appendChild(text);
        note.appendChild(meta);
        list.insertBefore(note, list.firstChild);
        box.value = "";
        var status = document.getElementById("note-status");
        if (status) status.textContent = result.data.message;
      }).catch(function () { form.submit(); });
    });
  });

  // The terms form shows only the chosen fee model's fields (without JavaScript it shows
  // them all, with a note that the other models' fields are ignored).
  var feeModel = document.querySelector("select[name='fee.model']");
  if (feeModel) {
    var showFees = function () {
      document.querySelectorAll("[data-fee-models]").forEach(function (group) {
        group.hidden = group.getAttribute("data-fee-models").split(" ").indexOf(feeModel.value) < 0;
      });
      var note = document.getElementById("fee-note");
      if (note) note.hidden = true;
    };
    feeModel.addEventListener("change", showFees);
    showFees();
  }

  // The menu folds behind its "Menu" toggle on small screens (open on wide ones).
  var menu = document.querySelector("[data-menu]");
  if (menu && window.matchMedia) {
    var small = window.matchMedia("(max-width: 820px)");
    var fold = function () { menu.open = !small.matches; };
    fold();
    if (small.addEventListener) small.addEventListener("change", fold);
  }

  // "Copy link": shown only where the clipboard can be written.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var target = document.querySelector(button.getAttribute("data-copy"));
    if (!target || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        var box = button.closest("details, td, .notice");
        var status = box && box.querySelector(".copy-status");
        if (status) status.textContent = "Link copied";
      });
    });
  });
})();
