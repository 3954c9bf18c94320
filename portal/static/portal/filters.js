// The filter sheet (a <details>) starts open on a wide screen; on a phone it opens on tap.
(function () {
  "use strict";
  if (!window.matchMedia("(min-width: 992px)").matches) return;
  document.querySelectorAll("details.filter-sheet").forEach(function (sheet) { sheet.open = true; });
})();
