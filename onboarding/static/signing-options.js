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
