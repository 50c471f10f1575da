/**
 * The viewer's script (plain ES2017 for the browser, no framework). Every value from a message is
 * put on the page with textContent, never as markup. It keeps at most the viewer's byte budget of
 * messages, like the server.
 */
export const PAGE_JS = String.raw`(function () {
  "use strict";
  var MARKER = "[CLIENT_REDACTED]";
  var MAX_GROUPS = 500;
  var MAX_SAMPLES = 300;
  var CURL_SKIP = { host: 1, "content-length": 1, connection: 1, "transfer-encoding": 1, "accept-encoding": 1 };

  var items = new Map();   // seq -> item
  var order = [];          // seqs, oldest first
  var heldBytes = 0;
  var budget = 16 * 1024 * 1024;
  var instance = null;
  var paused = false;
  var pauseSeq = 0;        // while paused, the list shows what had arrived up to here
  var missed = 0;
  var selected = null;
  var samples = [];
  var rules = null;
  var methods = {};
  var renderQueued = false;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function isOutgoing(m) { return /Outgoing$/.test(m.sdk_type || ""); }
  // Who is calling (setUser, setTenant, setSession, setAttributes): the typed identity of OTLP
  // delivery, or the user.*, tenant.* and session.id entries of a Pub/Sub message's tags.
  function identityOf(m) {
    var who = {};
    if (m.identity && typeof m.identity === "object") {
      Object.keys(m.identity).forEach(function (k) { who[k] = String(m.identity[k]); });
      return who;
    }
    (m.tags || []).forEach(function (t) {
      var at = String(t).indexOf(":");
      var k = at > 0 ? String(t).slice(0, at) : "";
      if (/^(user|tenant|session)\./.test(k)) who[k] = String(t).slice(at + 1);
    });
    return who;
  }
  function fmtBytes(n) {
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KiB";
    return (n / 1024 / 1024).toFixed(1) + " MiB";
  }
  function fmtDuration(ns) {
    var ms = ns / 1e6;
    if (ms < 1) return Math.round(ns / 1e3) + " µs";
    if (ms < 1000) return ms.toFixed(ms < 10 ? 2 : 1) + " ms";
    return (ms / 1000).toFixed(2) + " s";
  }
  function fmtTime(ts) {
    var d = new Date(ts);
    if (isNaN(d.getTime())) return ts;
    function p(n, w) { n = String(n); while (n.length < w) n = "0" + n; return n; }
    return p(d.getHours(), 2) + ":" + p(d.getMinutes(), 2) + ":" + p(d.getSeconds(), 2) + "." + p(d.getMilliseconds(), 3);
  }
  function statusClass(code) { return Math.floor(code / 100) + "xx"; }
  function first(headers, name) {
    var v = headers && headers[name];
    return v && v.length ? String(v[0]) : "";
  }

  /** A body: its bytes, as text when it is UTF-8 text, else a marker for binary. */
  function decodeBody(b64) {
    if (!b64) return { kind: "empty", bytes: 0 };
    var bin;
    try { bin = atob(b64); } catch (e) { return { kind: "binary", bytes: 0 }; }
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var text;
    try { text = new TextDecoder("utf-8", { fatal: true }).decode(bytes); } catch (e) { return { kind: "binary", bytes: bytes.length }; }
    if (/[\u0000-\u0008\u000e-\u001f]/.test(text)) return { kind: "binary", bytes: bytes.length };
    var pretty = null;
    if (/^\s*[\[{"]/.test(text)) {
      try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { pretty = null; }
    }
    return { kind: pretty === null ? "text" : "json", text: text, pretty: pretty, bytes: bytes.length };
  }

  // ---- the list ----
  function add(seq, text) {
    if (items.has(seq)) return;
    var m;
    try { m = JSON.parse(text); } catch (e) { return; }
    var item = { seq: seq, text: text, m: m, bytes: text.length, search: null };
    items.set(seq, item);
    order.push(seq);
    heldBytes += item.bytes;
    while (heldBytes > budget && order.length > 1) {
      var old = items.get(order.shift());
      items.delete(old.seq);
      heldBytes -= old.bytes;
    }
    if (m.method && !methods[m.method]) {
      methods[m.method] = 1;
      var opt = el("option", null, m.method);
      opt.value = m.method;
      $("f-method").appendChild(opt);
    }
    if (paused) { missed++; updatePause(); return; }
    scheduleRender();
  }

  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    setTimeout(render, 30);
  }

  function filters() {
    return {
      method: $("f-method").value,
      status: $("f-status").value,
      route: $("f-route").value.trim().toLowerCase(),
      q: $("f-q").value.trim().toLowerCase()
    };
  }

  function searchText(item) {
    if (item.search !== null) return item.search;
    var m = item.m;
    var parts = [m.method, m.raw_url, m.url_path || "", m.host || "", String(m.status_code), m.sdk_type];
    [m.request_headers, m.response_headers].forEach(function (h) {
      for (var k in h) parts.push(k + ": " + h[k].join(", "));
    });
    [m.request_body, m.response_body].forEach(function (b) {
      var d = decodeBody(b);
      if (d.text) parts.push(d.text);
    });
    (m.errors || []).forEach(function (e) { parts.push(e.error_type + " " + e.message + " " + e.root_error_message); });
    item.search = parts.join("\n").toLowerCase();
    return item.search;
  }

  function matches(item, f) {
    var m = item.m;
    if (f.method && m.method !== f.method) return false;
    if (f.status && statusClass(m.status_code) !== f.status) return false;
    if (f.route && (m.url_path || "").toLowerCase().indexOf(f.route) < 0) return false;
    if (f.q && searchText(item).indexOf(f.q) < 0) return false;
    return true;
  }

  function row(item, child, dim) {
    var m = item.m;
    var tr = el("tr", "row" + (child ? " child" : "") + (dim ? " dim" : "") + (item.seq === selected ? " selected" : ""));
    tr.dataset.seq = String(item.seq);
    tr.tabIndex = 0;
    tr.appendChild(el("td", "time", fmtTime(m.timestamp)));
    var method = el("td");
    method.appendChild(el("span", "method", m.method));
    tr.appendChild(method);
    var route = el("td", "route", m.url_path === undefined ? "—" : (m.url_path || "(no route)"));
    tr.appendChild(route);
    var url = isOutgoing(m) ? (m.host || "") + m.raw_url : m.raw_url;
    var urlCell = el("td", "url", url);
    urlCell.title = url;
    tr.appendChild(urlCell);
    var st = el("td");
    st.appendChild(el("span", "status s" + Math.floor(m.status_code / 100), m.status_code));
    tr.appendChild(st);
    tr.appendChild(el("td", "dur", fmtDuration(m.duration)));
    tr.appendChild(el("td", "sdk", m.sdk_type));
    return tr;
  }

  function render() {
    renderQueued = false;
    var f = filters();
    var byId = new Map();
    var i, item;
    var upTo = order.length;
    if (paused) while (upTo > 0 && order[upTo - 1] > pauseSeq) upTo--;
    for (i = 0; i < upTo; i++) {
      item = items.get(order[i]);
      if (item.m.msg_id) byId.set(item.m.msg_id, item);
    }
    var children = new Map();
    var tops = [];
    for (i = 0; i < upTo; i++) {
      item = items.get(order[i]);
      var p = item.m.parent_id;
      if (p && byId.has(p) && p !== item.m.msg_id) {
        if (!children.has(p)) children.set(p, []);
        children.get(p).push(item);
      } else tops.push(item);
    }
    var tbody = document.createElement("tbody");
    var groups = 0, shown = 0, more = 0;
    for (i = tops.length - 1; i >= 0; i--) {
      var top = tops[i];
      var kids = children.get(top.m.msg_id) || [];
      var topMatch = matches(top, f);
      var kidMatches = kids.filter(function (k) { return matches(k, f); });
      if (!topMatch && !kidMatches.length) continue;
      if (groups >= MAX_GROUPS) { more++; continue; }
      groups++;
      tbody.appendChild(row(top, false, !topMatch));
      shown += topMatch ? 1 : 0;
      kidMatches.forEach(function (k) { tbody.appendChild(row(k, true, false)); shown++; });
    }
    if (more) {
      var tr = el("tr");
      var td = el("td", "more", more + " older group(s) not shown: narrow the filters");
      td.colSpan = 7;
      tr.appendChild(td);
      tbody.appendChild(tr);
    }
    var table = $("list");
    table.replaceChild(tbody, table.tBodies[0]);
    $("empty").hidden = order.length > 0;
    $("shown").textContent = upTo ? shown + " of " + upTo + " shown" : "";
    renderHeld();
  }

  function updatePause() {
    var b = $("pause");
    b.setAttribute("aria-pressed", paused ? "true" : "false");
    b.textContent = paused ? "Resume" + (missed ? " (" + missed + " new)" : "") : "Pause";
    setConn(paused ? "paused" : (connected ? "live" : "reconnecting…"));
  }

  // ---- one exchange ----
  function kvTable(obj, markerAware) {
    var keys = Object.keys(obj || {});
    if (!keys.length) return el("p", "none", "none");
    var t = el("table", "kv");
    keys.forEach(function (k) {
      var values = Array.isArray(obj[k]) ? obj[k] : [obj[k]];
      values.forEach(function (v) {
        var tr = el("tr");
        tr.appendChild(el("td", null, k));
        var td = el("td", "v");
        if (markerAware) appendMarked(td, String(v)); else td.textContent = String(v);
        tr.appendChild(td);
        t.appendChild(tr);
      });
    });
    return t;
  }

  /** Text with every marker highlighted. */
  function appendMarked(parent, text) {
    var parts = text.split(MARKER);
    for (var i = 0; i < parts.length; i++) {
      if (i > 0) parent.appendChild(el("mark", "redacted", MARKER));
      if (parts[i]) parent.appendChild(document.createTextNode(parts[i]));
    }
  }

  function bodyBlock(b64, contentType) {
    var wrap = el("div", "body");
    var d = decodeBody(b64);
    var meta = (contentType || "no content-type") + " · " + fmtBytes(d.bytes) + (d.kind === "json" ? " · JSON" : "");
    wrap.appendChild(el("div", "bodymeta", meta));
    if (d.kind === "empty") { wrap.appendChild(el("p", "none", "empty")); return wrap; }
    if (d.kind === "binary") { wrap.appendChild(el("pre", "binary", "[binary body, " + d.bytes + " bytes: not shown]")); return wrap; }
    var pre = el("pre", "body-text");
    appendMarked(pre, d.pretty !== null ? d.pretty : d.text);
    wrap.appendChild(pre);
    return wrap;
  }

  function shellQuote(s) { return "'" + String(s).replace(/'/g, "'\\''") + "'"; }

  function curlOf(m) {
    var url = (isOutgoing(m) ? "https://" : "http://") + (m.host || "localhost") + m.raw_url;
    var lines = ["curl -X " + m.method + " " + shellQuote(url)];
    var h = m.request_headers || {};
    Object.keys(h).forEach(function (k) {
      if (CURL_SKIP[k]) return;
      h[k].forEach(function (v) { lines.push("-H " + shellQuote(k + ": " + v)); });
    });
    var body = decodeBody(m.request_body);
    if (body.kind === "text" || body.kind === "json") lines.push("--data-raw " + shellQuote(body.text));
    else if (body.kind === "binary") lines.push("# binary request body (" + body.bytes + " bytes) left out");
    return lines.join(" \\\n  ");
  }

  function section(parent, title) {
    var s = el("section");
    s.appendChild(el("h3", null, title));
    parent.appendChild(s);
    return s;
  }

  function select(seq) {
    var item = items.get(seq);
    if (!item) return;
    selected = seq;
    var rows = document.querySelectorAll("#list tr.row");
    for (var i = 0; i < rows.length; i++) rows[i].classList.toggle("selected", rows[i].dataset.seq === String(seq));
    var m = item.m;
    var d = $("detail");
    d.replaceChildren();
    d.scrollTop = 0;
    d.dataset.seq = String(seq);
    d.appendChild(el("h2", "title", m.method + " " + (isOutgoing(m) ? (m.host || "") : "") + m.raw_url));

    var summary = {
      status: String(m.status_code),
      duration: fmtDuration(m.duration),
      route: m.url_path === undefined ? "(unknown)" : (m.url_path || "(no route matched)"),
      sdk_type: m.sdk_type,
      time: m.timestamp,
      host: m.host || "",
      http: m.proto_major + "." + m.proto_minor,
      msg_id: m.msg_id || ""
    };
    if (m.parent_id) summary.parent_id = m.parent_id;
    if (m.service_version) summary.service_version = m.service_version;
    if (m.tags && m.tags.length) summary.tags = m.tags.join(", ");
    var who = identityOf(m);
    Object.keys(who).forEach(function (k) { summary[k] = who[k]; });
    d.appendChild(kvTable(summary, false));
    if (m.parent_id) {
      var parent = null;
      items.forEach(function (it) { if (it.m.msg_id === m.parent_id) parent = it; });
      if (parent) {
        var up = el("button", null, "Open the request that made this call");
        up.type = "button";
        up.addEventListener("click", function () { select(parent.seq); });
        d.appendChild(up);
      }
    }

    var red = section(d, "Redactions");
    red.id = "redactions";
    red.appendChild(el("p", "muted", "working out which rules fired…"));
    loadReport(seq, red);

    var req = section(d, "Request");
    req.appendChild(el("h4", null, "Path params"));
    req.appendChild(kvTable(m.path_params, true));
    req.appendChild(el("h4", null, "Query params"));
    req.appendChild(kvTable(m.query_params, true));
    req.appendChild(el("h4", null, "Headers"));
    req.appendChild(kvTable(m.request_headers, true));
    req.appendChild(el("h4", null, "Body"));
    var rb = bodyBlock(m.request_body, first(m.request_headers, "content-type"));
    rb.id = "request-body";
    req.appendChild(rb);

    var res = section(d, "Response");
    res.appendChild(el("h4", null, "Headers"));
    res.appendChild(kvTable(m.response_headers, true));
    res.appendChild(el("h4", null, "Body"));
    var sb = bodyBlock(m.response_body, first(m.response_headers, "content-type"));
    sb.id = "response-body";
    res.appendChild(sb);

    var errs = section(d, "Errors");
    errs.id = "errors";
    if (!m.errors || !m.errors.length) errs.appendChild(el("p", "none", "none reported"));
    (m.errors || []).forEach(function (e) {
      errs.appendChild(el("div", "error-head", e.error_type + ": " + e.message));
      if (e.root_error_type !== e.error_type || e.root_error_message !== e.message) {
        errs.appendChild(el("div", "muted", "root cause: " + e.root_error_type + ": " + e.root_error_message));
      }
      errs.appendChild(el("div", "muted", "at " + e.when));
      errs.appendChild(el("pre", "stack", e.stack_trace));
    });

    var cs = section(d, "Copy as curl");
    var curl = curlOf(m);
    var actions = el("div", "actions");
    var copy = el("button", null, "Copy as curl");
    copy.type = "button";
    copy.id = "copy-curl";
    var note = el("span", "muted");
    copy.addEventListener("click", function () { copyText(curl, note); });
    actions.appendChild(copy);
    actions.appendChild(note);
    cs.appendChild(actions);
    var pre = el("pre", "curl");
    pre.id = "curl";
    appendMarked(pre, curl);
    cs.appendChild(pre);
    cs.appendChild(el("p", "muted", "With the values as published: what was redacted stays redacted."));

    var raw = section(d, "Message as published");
    var det = el("details");
    det.appendChild(el("summary", null, fmtBytes(item.bytes) + " of JSON, exactly as sent"));
    var rawPre = el("pre", "raw");
    rawPre.textContent = item.text;
    det.appendChild(rawPre);
    raw.appendChild(det);
  }

  function loadReport(seq, target) {
    fetch("api/exchanges/" + seq, { headers: { accept: "application/json" } })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (r) {
        if (selected !== seq) return;
        target.replaceChildren(target.firstChild);
        if (!r.ok) { target.appendChild(el("p", "muted", r.body.error || "not available")); return; }
        var hits = r.body.report;
        if (!hits.length) { target.appendChild(el("p", "none", "nothing was redacted")); return; }
        var t = el("table", "kv rules");
        var head = el("tr");
        ["rule", "where", "fields", "count"].forEach(function (h) { head.appendChild(el("th", null, h)); });
        t.appendChild(head);
        hits.forEach(function (h) {
          var tr = el("tr", "hit");
          tr.appendChild(el("td", "v rule", h.rule));
          tr.appendChild(el("td", null, h.where));
          tr.appendChild(el("td", "v", h.paths.join(", ")));
          tr.appendChild(el("td", "count", h.count));
          t.appendChild(tr);
        });
        target.appendChild(t);
      })
      .catch(function () {
        if (selected === seq) target.replaceChildren(target.firstChild, el("p", "muted", "the viewer is not reachable"));
      });
  }

  function copyText(text, note) {
    function done(ok) { note.textContent = ok ? "copied" : "select the text below and copy it"; setTimeout(function () { note.textContent = ""; }, 2500); }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(fallback()); });
    } else done(fallback());
    function fallback() {
      var ta = el("textarea");
      ta.value = text;
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      ta.remove();
      return ok;
    }
  }

  // ---- stats ----
  function renderStats() {
    var last = samples[samples.length - 1];
    if (!last) return;
    var s = last.stats;
    var dropped = 0;
    for (var r in s.dropped) dropped += s.dropped[r];
    $("stat-captured").textContent = s.captured;
    $("stat-published").textContent = s.published;
    var dEl = $("stat-dropped");
    dEl.textContent = dropped;
    dEl.className = dropped ? "bad" : "";
    $("stat-queue").textContent = s.queueItems + " (" + fmtBytes(s.queueBytes) + ")";
    $("stat-state").textContent = s.state;
    var tbody = document.createElement("tbody");
    Object.keys(s.dropped).forEach(function (reason) {
      var tr = el("tr", s.dropped[reason] ? "nonzero" : "zero");
      tr.dataset.reason = reason;
      tr.appendChild(el("td", null, reason));
      tr.appendChild(el("td", "count", s.dropped[reason]));
      tbody.appendChild(tr);
    });
    var drops = $("drops");
    drops.replaceChild(tbody, drops.tBodies[0]);
    renderHeld();
    renderSpark();
  }

  function renderHeld() {
    var last = samples[samples.length - 1];
    if (!last) return;
    var v = last.viewer;
    $("held").textContent = items.size + " exchange(s) on this page; the viewer holds " + v.held + " (" + fmtBytes(v.heldBytes) + " of " + fmtBytes(budget) + "), " + v.evicted + " dropped from its history" + (last.stats.sampledOut ? "; " + last.stats.sampledOut + " sampled out" : "");
  }

  function renderSpark() {
    var pts = samples.slice(-121);
    var cap = [], drop = [];
    for (var i = 1; i < pts.length; i++) {
      cap.push(Math.max(0, pts[i].stats.captured - pts[i - 1].stats.captured));
      drop.push(Math.max(0, sum(pts[i].stats.dropped) - sum(pts[i - 1].stats.dropped)));
    }
    var peak = Math.max.apply(null, [1].concat(cap, drop));
    var box = $("spark");
    box.replaceChildren();
    var W = 300, H = 60, n = Math.max(cap.length - 1, 1);
    function line(values, cls) {
      if (!values.length) return;
      var p = values.map(function (y, j) { return (j * W / n).toFixed(1) + "," + (H - 3 - y * (H - 6) / peak).toFixed(1); });
      if (values.length === 1) p.push(W + "," + p[0].split(",")[1]);
      box.appendChild(svg("polyline", { points: p.join(" "), "class": cls }));
    }
    line(drop, "drop");
    line(cap, "cap"); // on top: at rest both lie on the baseline
    $("peak").textContent = cap.length ? " · peak " + peak + "/s over " + cap.length + " s" : "";
  }
  function sum(o) { var n = 0; for (var k in o) n += o[k]; return n; }

  function renderRules() {
    var b = $("rules-body");
    b.replaceChildren();
    if (!rules) return;
    b.appendChild(kvTable({ headers: rules.headers.join(", ") || "none", "request body": rules.request.join(", ") || "none", "response body": rules.response.join(", ") || "none" }, false));
  }

  // ---- the stream ----
  var connected = false;
  function setConn(text) {
    var c = $("conn");
    c.textContent = text;
    c.className = "conn " + (text === "live" ? "live" : text === "paused" ? "paused" : "down");
  }

  function clearAll() {
    items.clear();
    order = [];
    heldBytes = 0;
    selected = null;
    missed = 0;
    $("detail").replaceChildren(el("p", "hint", "Select an exchange to see its headers, bodies, redactions and errors."));
    scheduleRender();
    updatePause();
  }

  function connect() {
    var es = new EventSource("events");
    es.addEventListener("open", function () { connected = true; if (!paused) setConn("live"); });
    es.addEventListener("error", function () { connected = false; if (!paused) setConn("reconnecting…"); });
    es.addEventListener("hello", function (e) {
      var h = JSON.parse(e.data);
      if (instance && h.instance !== instance) clearAll();
      instance = h.instance;
      budget = h.maxHistoryBytes;
      rules = h.rules;
      renderRules();
    });
    es.addEventListener("stats-history", function (e) {
      samples = JSON.parse(e.data).slice(-MAX_SAMPLES);
      renderStats();
    });
    es.addEventListener("stats", function (e) {
      samples.push(JSON.parse(e.data));
      if (samples.length > MAX_SAMPLES) samples.shift();
      renderStats();
    });
    es.addEventListener("exchange", function (e) {
      var seq = Number(String(e.lastEventId).split(".")[1]);
      add(seq, e.data);
    });
  }

  function init() {
    $("list").tBodies[0].parentNode.addEventListener("click", function (e) {
      var tr = e.target.closest ? e.target.closest("tr.row") : null;
      if (tr) select(Number(tr.dataset.seq));
    });
    $("list").addEventListener("keydown", function (e) {
      if (e.key !== "Enter" && e.key !== " ") return;
      var tr = e.target.closest ? e.target.closest("tr.row") : null;
      if (tr) { e.preventDefault(); select(Number(tr.dataset.seq)); }
    });
    ["f-method", "f-status"].forEach(function (id) { $(id).addEventListener("change", render); });
    ["f-route", "f-q"].forEach(function (id) { $(id).addEventListener("input", render); });
    $("pause").addEventListener("click", function () {
      paused = !paused;
      pauseSeq = order.length ? order[order.length - 1] : 0;
      if (!paused) { missed = 0; scheduleRender(); }
      updatePause();
    });
    $("clear").addEventListener("click", clearAll);
    connect();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
`;
