// The "send again" button counts down the resend cooldown the server told us about.
(function () {
  "use strict";
  var button = document.getElementById("send-code-button");
  if (!button) return;
  var wait = parseInt(button.dataset.wait || "0", 10);
  function tick() {
    if (wait > 0) {
      button.disabled = true;
      button.textContent = button.dataset.waitLabel.replace("{seconds}", wait);
      wait -= 1;
      window.setTimeout(tick, 1000);
    } else {
      button.disabled = false;
      button.textContent = button.dataset.label;
    }
  }
  tick();
})();
