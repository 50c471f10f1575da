/** The viewer's page: static markup; viewer.js fills it from the event stream (no inline script or style, so the CSP can forbid them). */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>apitoolkit-node · live traffic</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="viewer.css">
<script src="viewer.js" defer></script>
</head>
<body>
<header class="top">
  <h1>apitoolkit-node <span>live traffic</span></h1>
  <span id="conn" class="conn" role="status">connecting…</span>
  <div class="counters" aria-label="Totals">
    <span class="counter">captured <b id="stat-captured">0</b></span>
    <span class="counter">published <b id="stat-published">0</b></span>
    <span class="counter">dropped <b id="stat-dropped">0</b></span>
    <span class="counter">queue <b id="stat-queue">0</b></span>
    <span class="counter">state <b id="stat-state">…</b></span>
  </div>
</header>
<section class="overview" aria-label="Delivery">
  <figure class="chart">
    <svg id="spark" viewBox="0 0 300 60" preserveAspectRatio="none" role="img" aria-label="exchanges per second"></svg>
    <figcaption><span class="key cap"></span>captured/s <span class="key drop"></span>dropped/s <span id="peak" class="muted"></span></figcaption>
  </figure>
  <div>
    <h2>Drops by reason</h2>
    <table id="drops" class="drops"><tbody></tbody></table>
  </div>
  <div>
    <h2>This page</h2>
    <p id="held" class="muted"></p>
    <details id="rules"><summary>Redaction rules configured</summary><div id="rules-body"></div></details>
  </div>
</section>
<div class="toolbar" role="search">
  <label>Method <select id="f-method"><option value="">all</option></select></label>
  <label>Status <select id="f-status"><option value="">all</option><option>1xx</option><option>2xx</option><option>3xx</option><option>4xx</option><option>5xx</option></select></label>
  <label>Route <input id="f-route" type="text" placeholder="e.g. /users" autocomplete="off"></label>
  <label>Search <input id="f-q" type="search" placeholder="URLs, headers, bodies, errors" autocomplete="off"></label>
  <button id="pause" type="button" aria-pressed="false">Pause</button>
  <button id="clear" type="button">Clear</button>
  <span id="shown" class="muted"></span>
</div>
<main class="split">
  <div class="list-wrap">
    <table id="list" class="list">
      <thead><tr><th>Time</th><th>Method</th><th>Route</th><th>URL</th><th>Status</th><th>Duration</th><th>SDK</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="empty" class="empty">Waiting for traffic… send a request to your app; each exchange shows here as it is published.</p>
  </div>
  <aside id="detail" aria-label="Exchange" aria-live="polite"><p class="hint">Select an exchange to see its headers, bodies, redactions and errors.</p></aside>
</main>
</body>
</html>
`;
