// One click places one order; the server also refuses a second order for the same form.
(function () {
  "use strict";
  var form = document.getElementById("confirm-form");
  if (!form) {
    return;
  }
  form.addEventListener("submit", function (event) {
    if (event.submitter && event.submitter.id === "confirm-button") {
      window.setTimeout(function () { event.submitter.disabled = true; }, 0);
    }
  });
})();
