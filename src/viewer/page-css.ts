/** The viewer's stylesheet. */
export const PAGE_CSS = String.raw`
:root {
  --bg: #f6f7f9; --panel: #fff; --line: #e2e5ea; --text: #1d2330; --muted: #667085;
  --accent: #3b5bdb; --ok: #2b8a3e; --info: #1971c2; --warn: #d9480f; --bad: #c92a2a;
  --mark-bg: #ffe8a3; --mark-text: #6b3d00;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; }
body { font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--text); background: var(--bg); display: flex; flex-direction: column; }
h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0 0 6px; font-weight: 600; }
.muted { color: var(--muted); }
.mono { font-family: var(--mono); }

.top { display: flex; align-items: center; gap: 16px; padding: 8px 16px; background: #1d2330; color: #fff; }
.top h1 { font-size: 15px; margin: 0; font-weight: 600; white-space: nowrap; }
.top h1 span { font-weight: 400; color: #aab2c0; }
.conn { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #495057; }
.conn.live { background: var(--ok); }
.conn.down { background: var(--bad); }
.conn.paused { background: #e67700; }
.counters { margin-left: auto; display: flex; gap: 14px; flex-wrap: wrap; color: #c6ccd6; }
.counter b { color: #fff; font-variant-numeric: tabular-nums; }
.counter b.bad { color: #ffa8a8; }

.overview { display: flex; gap: 28px; padding: 10px 16px; border-bottom: 1px solid var(--line); background: var(--panel); align-items: flex-start; flex-wrap: wrap; }
.overview p { margin: 0 0 4px; }
.chart { margin: 0; }
.chart svg { width: 300px; height: 60px; display: block; background: #fafbfc; border: 1px solid var(--line); border-radius: 4px; }
.chart figcaption { font-size: 11px; color: var(--muted); margin-top: 3px; }
.key { display: inline-block; width: 10px; height: 3px; vertical-align: middle; margin: 0 4px 0 8px; }
.key.cap { background: var(--accent); margin-left: 0; }
.key.drop { background: var(--bad); }
polyline { fill: none; stroke-width: 1.6; vector-effect: non-scaling-stroke; }
polyline.cap { stroke: var(--accent); }
polyline.drop { stroke: var(--bad); }
table.drops { border-collapse: collapse; font-size: 12px; }
table.drops tbody { display: grid; grid-template-columns: auto auto auto auto; column-gap: 10px; }
table.drops tr { display: contents; }
table.drops td { padding: 1px 0; font-variant-numeric: tabular-nums; }
table.drops td.count { padding-right: 14px; text-align: right; }
table.drops tr.zero { color: #adb5bd; }
table.drops tr.nonzero { color: var(--bad); font-weight: 600; }
#rules { font-size: 12px; max-width: 420px; }
#rules summary { cursor: pointer; color: var(--accent); }

.toolbar { display: flex; gap: 12px; padding: 8px 16px; align-items: center; flex-wrap: wrap; border-bottom: 1px solid var(--line); background: var(--panel); }
.toolbar label { color: var(--muted); display: flex; align-items: center; gap: 5px; }
select, input, button { font: inherit; color: var(--text); border: 1px solid #ced4da; border-radius: 4px; padding: 3px 7px; background: #fff; }
input[type=text], input[type=search] { width: 190px; }
button { cursor: pointer; background: #f1f3f5; }
button:hover { background: #e9ecef; }
button[aria-pressed=true] { background: #fff4e6; border-color: #e67700; color: #a34700; }

.split { flex: 1; display: flex; min-height: 0; }
.list-wrap { flex: 1 1 56%; overflow: auto; border-right: 1px solid var(--line); background: var(--panel); }
#detail { flex: 1 1 44%; overflow: auto; padding: 12px 16px 24px; min-width: 0; }
table.list { width: 100%; border-collapse: collapse; table-layout: auto; }
table.list th { position: sticky; top: 0; background: #f1f3f5; text-align: left; font-weight: 600; padding: 6px 8px; border-bottom: 1px solid var(--line); font-size: 12px; color: var(--muted); z-index: 1; }
table.list td { padding: 5px 8px; border-bottom: 1px solid #f0f1f3; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 300px; }
tr.row { cursor: pointer; }
tr.row:hover { background: #f5f7ff; }
tr.row.selected { background: #e5ebff; }
tr.row:focus { outline: 2px solid var(--accent); outline-offset: -2px; }
tr.child td.route::before { content: "↳ "; color: var(--muted); }
tr.child td { background: #fbfbfd; font-size: 12px; }
tr.dim { opacity: .55; }
td.time, td.dur { font-variant-numeric: tabular-nums; color: var(--muted); }
td.url { font-family: var(--mono); font-size: 12px; }
td.route { font-family: var(--mono); font-size: 12px; }
.method { font-family: var(--mono); font-weight: 700; }
.status { font-family: var(--mono); font-weight: 600; padding: 1px 6px; border-radius: 3px; }
.s1, .s3 { color: var(--info); background: #e7f5ff; }
.s2 { color: var(--ok); background: #ebfbee; }
.s4 { color: var(--warn); background: #fff4e6; }
.s5 { color: var(--bad); background: #fff5f5; }
.empty { color: var(--muted); padding: 24px 16px; margin: 0; }
.more { color: var(--muted); padding: 8px; text-align: center; }

#detail h2.title { font: 600 14px/1.4 var(--mono); color: var(--text); text-transform: none; letter-spacing: 0; margin: 0 0 8px; word-break: break-all; }
#detail section { margin-top: 14px; }
#detail h3 { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); border-bottom: 1px solid var(--line); padding-bottom: 3px; margin: 0 0 6px; }
#detail h4 { font-size: 12px; margin: 8px 0 3px; color: var(--muted); font-weight: 600; }
table.kv { border-collapse: collapse; width: 100%; font-size: 12px; }
table.kv td, table.kv th { padding: 2px 8px 2px 0; vertical-align: top; text-align: left; }
table.kv td:first-child, table.kv th { color: var(--muted); white-space: nowrap; font-weight: 500; }
table.kv td:first-child { width: 1%; padding-right: 16px; }
table.kv td.v { font-family: var(--mono); word-break: break-all; }
table.kv.rules th { border-bottom: 1px solid var(--line); }
table.kv.rules td.rule { color: var(--text); font-weight: 600; width: auto; }
table.kv.rules td.count { text-align: right; font-variant-numeric: tabular-nums; }
.actions { display: flex; gap: 8px; align-items: center; margin: 6px 0; }
.bodymeta { font-size: 11px; color: var(--muted); margin: 2px 0; }
pre { background: #f8f9fa; border: 1px solid var(--line); border-radius: 4px; padding: 8px; margin: 0; overflow: auto; max-height: 380px; white-space: pre-wrap; word-break: break-all; font: 12px/1.45 var(--mono); }
pre.stack { color: #5c2c2c; background: #fff8f8; }
mark.redacted { background: var(--mark-bg); color: var(--mark-text); border-radius: 3px; padding: 0 2px; font-weight: 700; }
.binary { font-style: italic; color: var(--muted); }
.error-head { font-family: var(--mono); color: var(--bad); font-weight: 600; }
.none { color: var(--muted); font-style: italic; margin: 2px 0; }
.hint { color: var(--muted); }
`;
