// The live event stream: polls /live/events for events newer than the newest shown, adds them on top.
(function () {
  "use strict";
  var table = document.getElementById("events");
  if (!table) { return; }
  var body = table.tBodies[0];
  var newest = parseInt(table.getAttribute("data-newest") || "0", 10);
  function cell(row, text, cls) {
    var td = row.insertCell(-1);
    td.textContent = text;
    if (cls) { td.className = cls; }
    return td;
  }
  function poll() {
    fetch("/live/events?after=" + newest, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (events) {
        events.forEach(function (e) {
          var row = body.insertRow(0);
          row.className = "fresh " + e.type + " " + e.outcome;
          var first = row.insertCell(-1);
          var link = document.createElement("a");
          link.href = "/messages/" + encodeURIComponent(e.message_id);
          link.textContent = e.at;
          first.appendChild(link);
          cell(row, e.type + (e.outcome ? " · " + e.outcome : ""));
          cell(row, e.recipient);
          cell(row, e.reason);
          cell(row, e.meaning, "dim");
          newest = Math.max(newest, e.id);
        });
        while (body.rows.length > 500) { body.deleteRow(-1); }
        table.setAttribute("data-newest", String(newest));
      })
      .catch(function () {})
      .then(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 2000);
})();
