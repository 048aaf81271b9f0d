/* map.js - the service map (/map, /?wall=1&map=1): keeps the server's
 * SVG current. On every status event from /api/v1/events, and once a
 * window otherwise, it fetches the map again (/map?partial=1) and swaps
 * it in; hovering a service dims every arc that is not its own. The page
 * is complete without this script (it then reloads every 30 s). */
(function () {
  "use strict";
  var map = document.getElementById("map");
  if (!map) return;
  var live = document.getElementById("live");
  var clock = document.getElementById("clock");
  var banner = document.getElementById("banner");
  var lastContact = Date.now(), unreachableSince = 0;
  var inFlight = false, timer = 0, source = null, backoff = 1000;

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function hms(d) { return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()); }
  function num(name) { return parseFloat(map.getAttribute("data-" + name)) || 0; }
  function interval() { return Math.max(num("interval"), 1); }

  function setLive(on, text) {
    if (!live) return;
    live.hidden = false;
    live.classList.toggle("on", on);
    live.classList.toggle("off", !on);
    live.textContent = text;
  }

  function judge() {
    if (!banner) return;
    var now = Date.now();
    if (unreachableSince || now - lastContact > 30000) {
      banner.textContent = "\u26A0 Collector unreachable \u2014 this map is NOT live (since " +
        hms(new Date(unreachableSince || lastContact)) + ")";
      banner.classList.remove("warn");
      banner.hidden = false;
      return;
    }
    var flush = num("flush"), serverNow = num("now");
    if (flush > 0 && serverNow - flush > 3 * interval() + 5) {
      banner.textContent = "\u26A0 Data is stale: no window closed since " + hms(new Date(flush * 1000));
      banner.classList.add("warn");
      banner.hidden = false;
      return;
    }
    banner.hidden = true;
  }

  /* Hovering (or focusing) a service: its arcs stand out. */
  function focus(name) {
    var svg = document.getElementById("map-svg");
    if (!svg) return;
    svg.classList.toggle("focus", !!name);
    var edges = svg.querySelectorAll(".edge");
    for (var i = 0; i < edges.length; i++) {
      var e = edges[i];
      e.classList.toggle("mine", !!name && (e.getAttribute("data-from") === name ||
        e.getAttribute("data-to") === name));
    }
  }

  function wire() {
    var nodes = map.querySelectorAll(".node");
    for (var i = 0; i < nodes.length; i++) {
      (function (n) {
        var name = n.getAttribute("data-service");
        n.addEventListener("mouseenter", function () { focus(name); });
        n.addEventListener("mouseleave", function () { focus(null); });
        n.addEventListener("focus", function () { focus(name); });
        n.addEventListener("blur", function () { focus(null); });
      })(nodes[i]);
    }
  }

  function apply(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var m = doc.getElementById("map"), c = doc.getElementById("counts");
    if (!m) return;
    for (var i = 0; i < m.attributes.length; i++)
      map.setAttribute(m.attributes[i].name, m.attributes[i].value);
    map.replaceChildren.apply(map, Array.prototype.slice.call(m.childNodes));
    var counts = document.getElementById("counts");
    if (c && counts) counts.replaceWith(c);
    wire();
  }

  function refresh() {
    if (inFlight) return;
    inFlight = true;
    var ctl = new AbortController();
    var t = setTimeout(function () { ctl.abort(); }, 8000);
    fetch(map.getAttribute("data-src") || "/map?partial=1", { cache: "no-store", signal: ctl.signal })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      })
      .then(function (html) {
        lastContact = Date.now();
        unreachableSince = 0;
        apply(html);
      })
      .catch(function () {
        if (!unreachableSince) unreachableSince = Date.now();
      })
      .then(function () { clearTimeout(t); inFlight = false; judge(); });
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 150);
  }

  function connect() {
    if (!window.EventSource) return;
    source = new EventSource("/api/v1/events");
    source.onopen = function () {
      backoff = 1000;
      lastContact = Date.now();
      unreachableSince = 0;
      setLive(true, "live");
    };
    source.addEventListener("hello", function () { lastContact = Date.now(); soon(); });
    source.addEventListener("status", function () { lastContact = Date.now(); soon(); });
    source.addEventListener("deleted", soon);
    source.addEventListener("overflow", soon);
    source.onerror = function () {
      setLive(false, "reconnecting\u2026");
      if (source.readyState === EventSource.CLOSED) {
        source = null;
        setTimeout(connect, backoff);
        backoff = Math.min(backoff * 2, 30000);
      }
      refresh();
    };
  }

  function tick() {
    if (clock) clock.textContent = hms(new Date());
    judge();
  }

  wire();
  tick();
  setInterval(tick, 1000);
  /* calls change with every window, not only with a status */
  setInterval(refresh, Math.min(Math.max(interval(), 2), 10) * 1000);
  connect();
})();
