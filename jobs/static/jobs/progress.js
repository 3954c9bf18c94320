// The job page: polls the job's JSON status and updates the bar, ETA, result and buttons.
// No inline script (CSP): labels come from data- attributes, values go in as textContent.
(function () {
  "use strict";

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, key) {
      return values[key] === undefined ? "" : String(values[key]);
    });
  }

  function duration(seconds) {
    if (seconds < 60) return seconds + " s";
    var minutes = Math.floor(seconds / 60);
    return minutes + " min " + (seconds % 60) + " s";
  }

  function show(element, visible) {
    element.classList.toggle("d-none", !visible);
  }

  function start() {
    var box = document.getElementById("job");
    if (!box) return;
    var labels = box.dataset;
    var bar = document.getElementById("job-bar");
    var delay = 500;

    function render(status) {
      var percent = status.percent;
      bar.style.width = percent + "%";
      bar.setAttribute("aria-valuenow", percent);
      bar.textContent = percent + " %";
      bar.classList.toggle("bg-success", status.state === "done");
      bar.classList.toggle("bg-danger", status.state === "failed");
      bar.classList.toggle("progress-bar-striped", !status.finished);
      bar.classList.toggle("progress-bar-animated", !status.finished);
      document.getElementById("job-state").textContent = status.state_label;
      document.getElementById("job-rows").textContent = fill(labels.labelRows, {
        done: status.rows_done.toLocaleString(),
        total: status.rows_total.toLocaleString(),
      });
      document.getElementById("job-eta").textContent =
        status.eta_seconds === null ? "" : fill(labels.labelEta, { time: duration(status.eta_seconds) });
      var error = document.getElementById("job-error");
      error.textContent = status.error;
      show(error, Boolean(status.error) && status.state !== "cancelled");
      var result = status.result || {};
      var summary = document.getElementById("job-summary");
      if (result.new !== undefined) {
        summary.textContent = fill(labels.labelSummary, result);
        show(summary, true);
      } else if (result.rows !== undefined && status.state === "done") {
        summary.textContent = fill(labels.labelExported, { rows: result.rows.toLocaleString() });
        show(summary, true);
      }
      var errors = result.errors || [];
      show(document.getElementById("job-errors-box"), errors.length > 0);
      if (errors.length) {
        var table = document.getElementById("job-errors");
        var head = table.tHead;
        if (!head.rows.length) {
          var headRow = head.insertRow();
          [labels.labelRow, labels.labelColumn, labels.labelMessage].forEach(function (text) {
            var th = document.createElement("th");
            th.textContent = text;
            headRow.appendChild(th);
          });
          errors.forEach(function (item) {
            var row = table.tBodies[0].insertRow();
            [item.row, item.column, item.message].forEach(function (text) {
              row.insertCell().textContent = text;
            });
          });
        }
        var more = document.getElementById("job-errors-more");
        if (result.invalid > 0 && errors.length >= 1000) {
          more.textContent = fill(labels.labelMore, { shown: errors.length });
          show(more, true);
        }
      }
      show(document.getElementById("job-confirm"), Boolean(status.confirm_url) && !status.follow_up_url);
      show(document.getElementById("job-download"), Boolean(status.download_url));
      var follow = document.getElementById("job-follow-up");
      if (status.follow_up_url) follow.href = status.follow_up_url;
      show(follow, Boolean(status.follow_up_url));
      show(document.getElementById("job-cancel"), Boolean(status.cancel_url));
    }

    function poll() {
      fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        })
        .then(function (status) {
          render(status);
          if (!status.finished) {
            delay = Math.min(2000, delay + 100);
            window.setTimeout(poll, delay);
          }
        })
        .catch(function () {
          window.setTimeout(poll, 3000);
        });
    }

    poll();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
