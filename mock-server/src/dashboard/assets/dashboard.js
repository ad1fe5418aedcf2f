// The dashboard's one script, served from the binary: the requests page follows the journal
// (a poll a second for the rows after the newest it shows), and the scenario page reveals an
// integration's skey when asked.
(function () {
  "use strict";
  var MAX_ROWS = 500;

  function followRequests() {
    var table = document.getElementById("requests");
    var status = document.getElementById("live-status");
    if (!table || table.dataset.live !== "on") return;
    var body = table.tBodies[0];
    function poll() {
      var params = new URLSearchParams(window.location.search);
      params.delete("before");
      params.set("after", table.dataset.last);
      fetch(table.dataset.poll + "?" + params.toString(), { credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (update) {
          if (update.rows) {
            body.insertAdjacentHTML("afterbegin", update.rows);
            var empty = document.getElementById("no-requests");
            if (empty) empty.remove();
            Array.prototype.forEach.call(body.querySelectorAll("tr[data-seq]"), function (row) {
              if (Number(row.dataset.seq) > Number(table.dataset.last)) row.classList.add("fresh");
            });
            while (body.rows.length > MAX_ROWS) body.deleteRow(body.rows.length - 1);
          }
          table.dataset.last = update.last;
          status.textContent = "live";
        })
        .catch(function (error) { status.textContent = "not live: " + error.message; })
        .then(function () { window.setTimeout(poll, 1000); });
    }
    window.setTimeout(poll, 1000);
  }

  function revealKeys() {
    Array.prototype.forEach.call(document.querySelectorAll("button[data-reveal]"), function (button) {
      button.addEventListener("click", function () {
        var form = new URLSearchParams({ integration: button.dataset.reveal });
        fetch(button.dataset.url, { method: "POST", body: form, credentials: "same-origin" })
          .then(function (response) { return response.json(); })
          .then(function (answer) {
            var shown = button.parentNode.querySelector("code.skey");
            shown.textContent = answer.skey || answer.error;
            shown.classList.add("revealed");
            button.remove();
          });
      });
    });
  }

  var page = document.body.dataset.page;
  if (page === "requests") followRequests();
  if (page === "scenario") revealKeys();
})();
