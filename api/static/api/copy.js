// Copy buttons: <button data-copy-target="id"> copies the text of #id (an input's value or an
// element's text) and says so on the button for a moment.
(function () {
  "use strict";
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // http:// (a test server, an intranet): the clipboard API is missing, select and copy.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "api-copy-buffer";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { document.body.removeChild(area); }
    return Promise.resolve();
  }
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy-target"));
      if (!source) { return; }
      var text = source.tagName === "INPUT" || source.tagName === "TEXTAREA" ? source.value : source.textContent.trim();
      var label = button.innerHTML;
      copyText(text).then(function () {
        button.textContent = button.getAttribute("data-copied-label") || "OK";
        button.classList.add("copied");
        window.setTimeout(function () { button.innerHTML = label; button.classList.remove("copied"); }, 2000);
      });
    });
  });
})();

// Forms that undo something ask first: <form data-confirm="question">.
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
})();
