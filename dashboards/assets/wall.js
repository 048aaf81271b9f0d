/* wall.js - the office wall (/?wall=1): live tiles over Server-Sent
 * Events, a clock, tiles sized to fill the screen, and a banner when the
 * collector cannot be reached or its data is stale, so a frozen screen is
 * never mistaken for a healthy one. The page is complete without this
 * script; everything here only keeps it current. */
(function () {
  "use strict";
  var grid = document.getElementById("grid");
  var banner = document.getElementById("banner");
  var live = document.getElementById("live");
  var clock = document.getElementById("clock");
  var lastContact = Date.now();     /* last answer from the collector */
  var unreachableSince = 0;
  var source = null, backoff = 1000, refreshTimer = 0, inFlight = false;

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function hms(d) { return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()); }
  function num(el, name) { return parseFloat(el.getAttribute("data-" + name)) || 0; }
  function interval() { return Math.max(num(grid, "interval"), 1); }

  function fit() {
    var n = grid.querySelectorAll(".tile").length;
    if (!n) return;
    var w = grid.clientWidth, h = grid.clientHeight, best = 1, score = 1e9;
    for (var c = 1; c <= 12; c++) {
      var rows = Math.ceil(n / c);
      var s = Math.abs(Math.log((w / c) / (h / rows) / 1.9));
      if (s < score - 1e-9) { score = s; best = c; }
    }
    grid.className = grid.className.replace(/\bcols-\d+/, "") .replace(/\brows-\d+/, "").trim() +
      " cols-" + best;
  }

  function showBanner(text, detail, warn) {
    banner.textContent = "";
    banner.appendChild(document.createTextNode(text));
    if (detail) {
      var s = document.createElement("small");
      s.textContent = detail;
      banner.appendChild(s);
    }
    banner.classList.toggle("warn", !!warn);
    banner.hidden = false;
    document.body.classList.add("is-stale");
  }

  function hideBanner() {
    banner.hidden = true;
    document.body.classList.remove("is-stale");
  }

  /* Decide what the banner says, once a second. */
  function judge() {
    var now = Date.now();
    if (unreachableSince || now - lastContact > 30000) {
      var since = unreachableSince || lastContact;
      showBanner("\u26A0 Collector unreachable \u2014 these tiles are NOT live",
        "no answer from vitalsd since " + hms(new Date(since)) +
        " (" + Math.round((now - since) / 1000) + "s)", false);
      return;
    }
    var flush = num(grid, "flush"), serverNow = num(grid, "now");
    if (flush > 0 && serverNow - flush > 3 * interval() + 5) {
      showBanner("\u26A0 Data is stale", "the collector has closed no window since " +
        hms(new Date(flush * 1000)), true);
      return;
    }
    hideBanner();
  }

  function setLive(on, text) {
    live.classList.toggle("on", on);
    live.classList.toggle("off", !on);
    live.textContent = text;
  }

  function apply(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var g = doc.getElementById("grid"), c = doc.getElementById("counts");
    if (!g) return;
    for (var i = 0; i < g.attributes.length; i++) {
      var a = g.attributes[i];
      if (a.name !== "class") grid.setAttribute(a.name, a.value);
    }
    grid.replaceChildren.apply(grid, Array.prototype.slice.call(g.childNodes));
    var counts = document.getElementById("counts");
    if (c && counts) counts.replaceWith(c);
    fit();
  }

  function refresh() {
    if (inFlight) return;
    inFlight = true;
    var ctl = new AbortController();
    var t = setTimeout(function () { ctl.abort(); }, 8000);
    fetch("/?wall=1&partial=1", { cache: "no-store", signal: ctl.signal })
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
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 150);
  }

  var LABELS = { critical: ["\u2716", "CRITICAL"], warning: ["\u25B2", "WARNING"],
    unknown: ["?", "UNKNOWN"], ok: ["\u2714", "OK"] };

  function badge(status) {
    var b = document.createElement("span"), i = document.createElement("span");
    var l = LABELS[status] || LABELS.unknown;
    var w = document.createElement("span");
    b.className = "badge st-" + status;
    b.title = l[1];
    i.className = "icon";
    i.setAttribute("aria-hidden", "true");
    i.textContent = l[0];
    w.className = "word";
    w.textContent = l[1];
    b.appendChild(i);
    b.appendChild(document.createTextNode(" "));
    b.appendChild(w);
    return b;
  }

  /* A status event: recolour the tile at once, then fetch the figures. */
  function onStatus(ev) {
    lastContact = Date.now();
    try {
      var d = JSON.parse(ev.data);
      var tiles = grid.querySelectorAll(".tile");
      for (var i = 0; i < tiles.length; i++) {
        if (tiles[i].getAttribute("data-service") !== d.service) continue;
        var st = d.service_status;
        tiles[i].className = tiles[i].className.replace(/\bst-\w+/, "st-" + st);
        tiles[i].setAttribute("data-status", st);
        var old = tiles[i].querySelector(".t-head .badge");
        if (old) old.replaceWith(badge(st));
      }
    } catch (e) { /* the refresh below brings the truth anyway */ }
    soon();
  }

  function connect() {
    if (!window.EventSource) return;
    source = new EventSource("/api/v1/events");
    source.onopen = function () {
      backoff = 1000;
      lastContact = Date.now();
      unreachableSince = 0;
      setLive(true, "live");
      soon();
    };
    source.addEventListener("hello", function () { lastContact = Date.now(); soon(); });
    source.addEventListener("status", onStatus);
    source.addEventListener("deleted", soon);
    source.addEventListener("overflow", soon);
    source.onerror = function () {
      setLive(false, "reconnecting\u2026");
      if (source.readyState === EventSource.CLOSED) {
        source = null;
        setTimeout(connect, backoff);
        backoff = Math.min(backoff * 2, 30000);
      }
      refresh();        /* tells whether the collector is there at all */
    };
  }

  function tick() {
    clock.textContent = hms(new Date());
    judge();
  }

  fit();
  window.addEventListener("resize", fit);
  tick();
  setInterval(tick, 1000);
  setInterval(refresh, Math.min(Math.max(interval(), 2), 10) * 1000);
  connect();
})();
