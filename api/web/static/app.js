// The page's only script: refresh a running screening's progress once a second.
(function () {
  "use strict";
  var job = document.getElementById("job");
  if (!job) return;
  var labels = JSON.parse(document.getElementById("status").dataset.labels);
  function set(id, value) { var el = document.getElementById(id); if (el) el.textContent = value; }
  function poll() {
    if (job.dataset.status !== "queued" && job.dataset.status !== "running") return;
    fetch(job.dataset.statusUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (!j) return;
        job.dataset.status = j.status;
        document.getElementById("progress").value = j.rows_done;
        set("status", labels[j.status] || j.status);
        set("rows-done", j.rows_done);
        set("rows-seen", j.rows_seen);
        set("rows-rejected", j.rows_rejected);
        set("rate", j.rows_per_second === null ? "—" : j.rows_per_second);
        set("eta", j.eta_seconds === null ? "—" : j.eta_seconds + " s");
        set("rows-not-seen", j.rows_done - j.rows_seen - j.rows_rejected);
        if (j.status !== "queued" && j.status !== "running") {
          // Finished: reload for the final counts and the preview, without the Cancel button
          // (hiding it left it shown: the form's display rule beat the hidden attribute).
          window.location.reload();
          return;
        }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
