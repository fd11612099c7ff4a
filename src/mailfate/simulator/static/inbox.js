// The web inbox without a build step: confirm before deleting, and refresh the message list when
// the /api/events websocket announces a change. Without JavaScript the list refreshes itself
// every 15 seconds (a <noscript> meta refresh) and deleting asks no question.
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });
  var inbox = document.getElementById("inbox");
  if (!inbox || !window.WebSocket) { return; }
  var live = document.getElementById("live");
  var timer = null;
  function swap(id, doc) {
    var fresh = doc.getElementById(id), old = document.getElementById(id);
    if (fresh && old) { old.replaceWith(fresh); }
    return fresh;
  }
  function refresh() {
    var before = (inbox.getAttribute("data-ids") || "").split(" ");
    fetch(location.href, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = swap("inbox", doc);
        swap("counts", doc);
        var badge = doc.getElementById("unread-badge"), old = document.getElementById("unread-badge");
        if (badge && old) { old.replaceWith(badge); }
        if (!fresh) { return; }
        inbox = fresh;
        fresh.querySelectorAll("tr[data-id]").forEach(function (row) {
          if (before.indexOf(row.getAttribute("data-id")) < 0) { row.classList.add("fresh"); }
        });
      })
      .catch(function () {});
  }
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/events");
    ws.onopen = function () { if (live) { live.hidden = false; } };
    ws.onmessage = function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (err) { return; }
      if (!message || message.Type === "stats") { return; }
      clearTimeout(timer);
      timer = setTimeout(refresh, 150);
    };
    ws.onclose = function () {
      if (live) { live.hidden = true; }
      setTimeout(connect, 3000);
    };
  }
  connect();
})();
