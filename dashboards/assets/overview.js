/* overview.js - the overview page (/): filter tiles as you type (the form
 * works without it, on the server), a ticking clock, and fresh tiles
 * every few seconds. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var input = document.getElementById("filter");
  var grid = document.getElementById("grid");
  var clock = document.getElementById("clock");

  function filter() {
    var q = input.value.trim().toLowerCase();
    var tiles = grid.querySelectorAll(".tile");
    for (var i = 0; i < tiles.length; i++) {
      var name = (tiles[i].getAttribute("data-service") || "").toLowerCase();
      tiles[i].classList.toggle("is-hidden", q !== "" && name.indexOf(q) < 0);
    }
  }

  function refresh() {
    var q = new URLSearchParams(location.search).get("q") || "";
    fetch("/?partial=1&q=" + encodeURIComponent(q), { cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var g = doc.getElementById("grid"), c = doc.getElementById("counts");
        var counts = document.getElementById("counts");
        if (g) grid.replaceChildren.apply(grid, Array.prototype.slice.call(g.childNodes));
        if (c && counts) counts.replaceWith(c);
        filter();
      })
      .catch(function () { /* keep what is shown; try again later */ });
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var d = new Date();
    clock.textContent = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" +
      pad(d.getUTCSeconds()) + " UTC";
  }

  input.addEventListener("input", function () {
    var url = new URL(location.href);
    if (input.value) url.searchParams.set("q", input.value); else url.searchParams.delete("q");
    history.replaceState(null, "", url);
    filter();
  });
  setInterval(tick, 1000);
  setInterval(refresh, 10000);
})();
