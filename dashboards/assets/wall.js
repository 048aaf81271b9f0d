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

  /* ---- fitting the tiles to the screen ----
   * Every name is shown whole on one line: the script picks the number of
   * columns that gives the largest name size at which the longest name
   * (and its badges) fits, sets it for every tile, then drops secondary
   * lines (foot, second output line, figures, output) rather than shrink
   * them below a size readable from about 3 m. When even the smallest name
   * size leaves too many tiles, the wall shows them in pages, worst first,
   * turning every 10 s (arrow keys turn them too). */
  var PAGE_MS = 10000;
  var TIERS = [[], ["no-foot"], ["no-foot", "out-1"], ["no-foot", "out-1", "no-figs"],
    ["no-foot", "no-figs", "no-out"]];
  var ALL_TIERS = ["no-foot", "out-1", "no-figs", "no-out"];
  var page = 0, pages = 1;
  var pager = null;
  var ctx = document.createElement("canvas").getContext("2d");
  var widths = {};

  (function () {
    var c = new URLSearchParams(location.search).get("collector");
    if (c !== null && c !== "0" && c !== "false") document.body.classList.add("show-collector");
  })();

  function px(v) { return parseFloat(v) || 0; }

  /* Width of text in em (canvas, so no layout), cached. */
  function em(font, text) {
    var k = font + "\n" + text;
    if (!(k in widths)) {
      ctx.font = "700 100px " + font;
      widths[k] = ctx.measureText(text).width / 100;
    }
    return widths[k];
  }

  function shownTiles() {
    var all = grid.querySelectorAll(".tile"), out = [];
    var self = document.body.classList.contains("show-collector");
    for (var i = 0; i < all.length; i++)
      if (self || !all[i].classList.contains("is-quiet")) out.push(all[i]);
    return out;
  }

  function any(tiles, bad) {
    for (var i = 0; i < tiles.length; i++) if (!tiles[i].classList.contains("is-off") && bad(tiles[i])) return true;
    return false;
  }
  function overflows(t) { return t.scrollHeight > t.clientHeight + 1; }
  function nameCut(t) {
    var n = t.querySelector(".t-name");
    return n && n.scrollWidth > n.clientWidth;
  }

  function setTier(k) {
    for (var i = 0; i < ALL_TIERS.length; i++)
      grid.classList.toggle(ALL_TIERS[i], TIERS[k].indexOf(ALL_TIERS[i]) >= 0);
  }

  function showPager() {
    if (!pager) {
      pager = document.createElement("span");
      pager.className = "page";
      pager.id = "page";
      live.parentNode.insertBefore(pager, live);
    }
    pager.hidden = pages < 2;
    pager.textContent = "page " + (page + 1) + "/" + pages;
  }

  function fit() {
    var tiles = shownTiles(), n = tiles.length, i, c;
    grid.className = grid.className.replace(/\bcols-\d+/, "").replace(/\brows-\d+/, "").trim();
    if (!n) { pages = 1; page = 0; showPager(); return; }
    var font = getComputedStyle(tiles[0].querySelector(".t-name")).fontFamily;
    var emName = 0, emBadges = 0;
    for (i = 0; i < n; i++) {
      emName = Math.max(emName, em(font, tiles[i].getAttribute("data-service") || ""));
      var bs = tiles[i].querySelectorAll(".t-head .badge"), w = 0;
      for (var j = 0; j < bs.length; j++) {
        var text = bs[j].textContent;
        w += em(font, text) + 0.04 * text.length + 1.1 + (j ? 0.4 : 0);
      }
      emBadges = Math.max(emBadges, w);
    }
    emName *= 1.02;
    emBadges *= 1.05;
    var gs = getComputedStyle(grid), ts = getComputedStyle(tiles[0]);
    var gw = grid.clientWidth - px(gs.paddingLeft) - px(gs.paddingRight);
    var gh = grid.clientHeight - px(gs.paddingTop) - px(gs.paddingBottom);
    var cg = px(gs.columnGap), rg = px(gs.rowGap);
    var hch = px(ts.paddingLeft) + px(ts.paddingRight) + px(ts.borderLeftWidth) +
      px(ts.borderRightWidth) + 2;
    var vch = px(ts.paddingTop) + px(ts.paddingBottom) + 2;
    var vh = window.innerHeight / 100, gap = px(ts.rowGap);
    var sec = Math.max(16, 2.2 * vh), nameMin = Math.max(14, 1.6 * vh), nameMax = 9 * vh;
    var nameGood = Math.max(nameMin, 1.1 * sec);
    var badgeFs = function (fs) { return Math.min(sec, Math.max(12, 0.6 * fs)); };
    var headH = function (fs) { return 1.15 * fs + 2.15 * badgeFs(fs); };
    var width = function (cols) { return (gw - (cols - 1) * cg) / cols - hch; };
    /* height of the secondary lines of each tier (dash.css line heights) */
    var figsH = function (w) {       /* the sparkline wraps in narrow tiles */
      return w >= 20 * sec ? 3 * sec : 5.4 * sec + 0.4 * vh;
    };
    var extra = function (k, w) {
      return [4.2 * sec + figsH(w) + 3 * gap, 2.5 * sec + figsH(w) + 2 * gap,
        1.25 * sec + figsH(w) + 2 * gap, 1.25 * sec + gap, 0][k];
    };
    /* Does a name of size fs fit a tile w wide and h high with more px
     * of secondary lines, the badges under the name (inline 0) or on its
     * right (inline 1)? */
    var fits = function (fs, w, h, more, inline) {
      var bf = badgeFs(fs);
      if (inline)
        return fs * emName + bf * (emBadges + 0.4) <= w &&
          vch + Math.max(1.15 * fs, 1.7 * bf) + more <= h;
      return fs * emName <= w && bf * emBadges <= w && vch + headH(fs) + more <= h;
    };
    var layout = function (k) {        /* the columns giving the largest names */
      var best = { fs: -1, cols: 1, rows: n, inline: 0 };
      for (var c2 = 1; c2 <= Math.min(n, 24); c2++) {
        var rows = Math.ceil(n / c2), th = (gh - (rows - 1) * rg) / rows;
        for (var mode = 0; mode < 2; mode++) {
          var lo = 0, hi = nameMax;
          for (var s = 0; s < 24; s++) {
            var m = (lo + hi) / 2;
            if (fits(m, width(c2), th, extra(k, width(c2)), mode)) lo = m; else hi = m;
          }
          if (lo > best.fs * 1.01) best = { fs: lo, cols: c2, rows: rows, inline: mode };
        }
      }
      return best;
    };
    var best = null, tier = 0, per = n;
    for (tier = 0; tier < TIERS.length; tier++) {
      best = layout(tier);
      if (best.fs >= (tier < TIERS.length - 1 ? nameGood : nameMin)) break;
    }
    if (tier === TIERS.length) {       /* pages of tiles at the smallest name size */
      tier = TIERS.length - 1;
      best = { fs: nameMin, cols: 1, rows: 1, inline: 0 };
      per = 1;
      for (var mode2 = 0; mode2 < 2; mode2++) {
        var lo2 = 1, hi2 = 200;        /* most rows that still fit */
        while (lo2 < hi2) {
          var r2 = Math.ceil((lo2 + hi2 + 1) / 2);
          if (fits(nameMin, width(1), (gh - (r2 - 1) * rg) / r2, 0, mode2)) lo2 = r2; else hi2 = r2 - 1;
        }
        for (c = 1; c <= 24 && fits(nameMin, width(c), 1e9, 0, mode2); c++)
          if (c * lo2 > per) { per = c * lo2; best = { fs: nameMin, cols: c, rows: lo2, inline: mode2 }; }
      }
    }
    pages = Math.ceil(n / per);
    page = page % pages;
    for (i = 0; i < n; i++) tiles[i].classList.toggle("is-off", Math.floor(i / per) !== page);
    grid.classList.add("fitted", "cols-" + best.cols);
    grid.classList.toggle("inline", !!best.inline);
    var fs = best.fs;
    grid.style.setProperty("--cols", String(best.cols));
    grid.style.setProperty("--rows", String(best.rows));
    grid.style.setProperty("--sec-fs", sec.toFixed(1) + "px");
    var setName = function () {
      grid.style.setProperty("--name-fs", fs.toFixed(1) + "px");
      grid.style.setProperty("--badge-fs", badgeFs(fs).toFixed(1) + "px");
    };
    setName();
    for (; tier < TIERS.length; tier++) {
      setTier(tier);
      if (!any(tiles, overflows)) break;
    }
    /* the estimate is close, not exact: never leave a name cut */
    for (i = 0; i < 12 && (any(tiles, nameCut) || any(tiles, overflows)); i++) {
      fs *= 0.95;
      setName();
    }
    grid.setAttribute("data-fit", "name " + fs.toFixed(1) + "px, " + best.cols + "x" +
      best.rows + ", tier " + tier + (best.inline ? ", inline" : "") + ", " + per + " a page");
    showPager();
  }

  /* Turn the page; a key press restarts the 10 s. */
  var pageTimer = 0;
  function turn(step) {
    clearTimeout(pageTimer);
    pageTimer = setTimeout(function () { turn(1); }, PAGE_MS);
    if (pages < 2) return;
    page = (page + step + pages) % pages;
    fit();
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
  turn(0);
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight" || e.key === "PageDown") turn(1);
    if (e.key === "ArrowLeft" || e.key === "PageUp") turn(-1);
  });
  tick();
  setInterval(tick, 1000);
  setInterval(refresh, Math.min(Math.max(interval(), 2), 10) * 1000);
  connect();
})();
