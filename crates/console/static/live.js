// ferry console: live progress of a cluster being created, from the page's server-sent events
// (/console/clusters/<id>/progress), and a replica's state and lag chart, fetched again every
// 5 s (/console/clusters/<id>/replication). Without script the page reloads itself every 5 s
// while a restore runs, and is reloaded by hand for the lag.
(function () {
  "use strict";
  var live = document.getElementById("replication-live");
  if (live && window.fetch) {
    var src = live.getAttribute("data-src");
    window.setInterval(function () {
      fetch(src, { credentials: "same-origin" }).then(function (r) {
        // Not replicating any more (204), or signed out (sent to the sign-in page): the
        // whole page again.
        if (r.status === 204 || r.redirected) { window.location.reload(); return null; }
        return r.ok ? r.text() : null;
      }).then(function (html) {
        if (!html) { return; }
        var now = document.getElementById("replication-live");
        if (now) { now.outerHTML = html; }
      });
    }, 5000);
  }
  var box = document.getElementById("progress");
  if (!box || !window.EventSource) { return; }
  var text = box.querySelector("[data-text]");
  var bar = box.querySelector("progress");
  var source = new EventSource(box.getAttribute("data-events"));
  source.addEventListener("progress", function (e) {
    var p = JSON.parse(e.data);
    text.textContent = p.text;
    if (bar) { bar.value = p.percent; bar.textContent = p.percent + "%"; }
  });
  source.addEventListener("done", function () {
    source.close();
    window.location.reload();
  });
})();
