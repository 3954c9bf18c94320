/* 充值/扣款 form: the balance after, recomputed as the amount is typed.
 *
 * Each row's "balance after" cell carries data-balance (the balance now, plain decimal); the
 * sign (+1 recharge, -1 deduct) and the words come from the json_script #money-form-config.
 * Amounts are read with the server's rule (digits, at most one "." and two decimals) and added
 * in whole cents, so no floating-point figure is ever shown. The server checks everything
 * again; this only shows the person what they are about to do.
 */
(function () {
  "use strict";

  var AMOUNT = /^\s*(\d+)(?:\.(\d{0,2}))?\s*$/;

  function toCents(text) {
    var match = AMOUNT.exec(text || "");
    if (!match) {
      return null;
    }
    var cents = (match[2] || "").padEnd(2, "0");
    return BigInt(match[1]) * 100n + BigInt(cents);
  }

  function balanceCents(text) {
    var negative = text.charAt(0) === "-";
    var cents = toCents(negative ? text.slice(1) : text);
    return cents === null ? null : negative ? -cents : cents;
  }

  function yuan(cents) {
    var negative = cents < 0n;
    var abs = negative ? -cents : cents;
    var whole = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var fraction = (abs % 100n).toString().padStart(2, "0");
    return (negative ? "-" : "") + "¥" + whole + "." + fraction;
  }

  function start() {
    var config = document.getElementById("money-form-config");
    var input = document.getElementById("id_amount");
    if (!config || !input) {
      return;
    }
    config = JSON.parse(config.textContent);
    var cells = document.querySelectorAll(".balance-after[data-balance]");

    function update() {
      var amount = toCents(input.value);
      cells.forEach(function (cell) {
        var balance = balanceCents(cell.getAttribute("data-balance"));
        if (amount === null || amount === 0n || balance === null) {
          cell.textContent = "—";
          cell.classList.remove("text-danger");
          cell.removeAttribute("title");
          return;
        }
        var after = balance + BigInt(config.sign) * amount;
        cell.textContent = yuan(after);
        cell.classList.toggle("text-danger", after < 0n);
        if (after < 0n) {
          cell.setAttribute("title", config.insufficient);
        } else {
          cell.removeAttribute("title");
        }
      });
    }

    input.addEventListener("input", update);
    if (input.value) {
      update();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
