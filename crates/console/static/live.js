// ferry console: live progress of a cluster being created, from the page's server-sent events
// (/console/clusters/<id>/progress). Without script the page reloads itself every 5 s instead.
(function () {
  "use strict";
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
