// The live quote: ask the server what the order costs as the customer types (debounced).
(function () {
  "use strict";
  var form = document.getElementById("order-form");
  if (!form) return;
  var service = form.elements.service;
  var quantity = form.elements.quantity;
  var url = form.dataset.quoteUrl;
  var error = document.getElementById("quote-error");
  var cells = {
    list: document.getElementById("quote-list-price"),
    discount: document.getElementById("quote-discount"),
    amount: document.getElementById("quote-amount"),
    balance: document.getElementById("quote-balance"),
    after: document.getElementById("quote-balance-after"),
  };
  var timer = null;
  var sequence = 0;

  function money(text) {
    var n = Number(text);
    var sign = n < 0 ? "-" : "";
    return sign + "¥" + Math.abs(n).toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
  }
  function clear() {
    cells.list.textContent = cells.discount.textContent = cells.amount.textContent = cells.after.textContent = "—";
    cells.after.classList.remove("text-danger");
  }
  function showServiceInfo() {
    document.querySelectorAll(".service-info").forEach(function (el) {
      var chosen = el.dataset.service === service.value;
      el.classList.toggle("d-none", !chosen);
      if (chosen) form.elements.target.placeholder = el.dataset.placeholder;
    });
  }
  // The server's errors under a field are stale once the quote accepts what it now holds.
  function clearStaleErrors(field) {
    field.classList.remove("is-invalid");
    var wrapper = field.closest(".mb-3");
    if (!wrapper) return;
    wrapper.querySelectorAll(".invalid-feedback").forEach(function (el) { el.remove(); });
  }
  function refresh() {
    var mine = ++sequence;
    if (!service.value || !quantity.value.trim()) {
      clear();
      error.classList.add("d-none");
      return;
    }
    var query = "?service=" + encodeURIComponent(service.value) + "&quantity=" + encodeURIComponent(quantity.value.trim());
    fetch(url + query, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (mine !== sequence) return;  // an older answer arriving late
        if (!data.ok) {
          clear();
          error.textContent = data.error;
          error.classList.remove("d-none");
          return;
        }
        error.classList.add("d-none");
        clearStaleErrors(service);
        clearStaleErrors(quantity);
        cells.list.textContent = money(data.list_price);
        cells.discount.textContent = "-" + money(data.discount);
        cells.amount.textContent = money(data.amount);
        cells.balance.textContent = money(data.balance);
        cells.after.textContent = money(data.balance_after);
        cells.after.classList.toggle("text-danger", !data.sufficient);
      })
      .catch(function () { if (mine === sequence) clear(); });
  }
  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 300);
  }
  service.addEventListener("change", function () { showServiceInfo(); refresh(); });
  quantity.addEventListener("input", later);
  showServiceInfo();
  refresh();
})();
