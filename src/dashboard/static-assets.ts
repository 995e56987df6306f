/**
 * The dashboard's only style sheet and script, served from `<basePath>/static/` (the CSP allows
 * scripts and styles from 'self' only, so nothing is inline). Kept as strings so the package needs
 * no asset build step. Colours meet WCAG AA contrast on their backgrounds.
 */
export const DASHBOARD_CSS = `
:root { --fg: #1b1f24; --muted: #4d5661; --bg: #ffffff; --line: #d0d7de; --accent: #0b5cad; --bad: #a40e26; --ok: #116329; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible, main:focus-visible { outline: 3px solid #1f6feb; outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: #fff; padding: .5em 1em; z-index: 10; }
.skip:focus { left: .5em; }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: 1em; padding: .6em 1.2em; border-bottom: 1px solid var(--line); background: #f6f8fa; }
.brand { font-weight: 700; text-decoration: none; color: var(--fg); }
.top nav ul { display: flex; gap: .9em; list-style: none; margin: 0; padding: 0; }
.top nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
.who { margin-left: auto; display: flex; gap: .6em; align-items: center; }
.role { color: var(--muted); }
main { padding: 1em 1.2em 3em; max-width: 80em; }
h1 { font-size: 1.5em; margin: .3em 0 .6em; }
h2 { font-size: 1.2em; margin-top: 1.6em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f6f8fa; }
form.filters { display: flex; flex-wrap: wrap; gap: .8em; align-items: flex-end; margin-bottom: 1em; }
form.filters label, form.stack label { display: flex; flex-direction: column; font-size: .9em; color: var(--muted); }
form.stack { display: flex; flex-direction: column; gap: .8em; max-width: 28em; }
form.stack.wide { max-width: 60em; }
textarea { width: 100%; font-family: ui-monospace, monospace; font-size: .9em; }
input, select, textarea, button { font: inherit; padding: .3em .5em; border: 1px solid #6e7781; border-radius: 4px; color: var(--fg); background: #fff; }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
button.danger { background: var(--bad); border-color: var(--bad); }
.muted { color: var(--muted); }
.state { font-weight: 600; }
.state-success { color: var(--ok); }
.state-failure, .state-timeout, .state-denied, .state-unverified { color: var(--bad); }
.notice { border: 1px solid var(--line); border-left: 4px solid var(--accent); padding: .6em 1em; margin: 1em 0; }
.notice.error { border-left-color: var(--bad); }
pre { background: #f6f8fa; padding: .8em; overflow: auto; max-height: 40em; border: 1px solid var(--line); }
dl.record { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1.2em; }
dl.record dt { color: var(--muted); }
dl.record dd { margin: 0; }
.pager { display: flex; gap: 1em; margin-top: 1em; }
.actions { display: flex; gap: .8em; margin: 1em 0; }
ol.timeline { padding-left: 1.4em; }
`

/**
 * Progressive enhancement, a few lines: a job page whose timeline carries `data-events` (its
 * running job's SSE URL) appends each new telemetry event to it, and reloads once the job ends.
 * Without JavaScript every page works; the timeline then shows what was there when it loaded.
 */
export const DASHBOARD_JS = `
'use strict';
document.addEventListener('DOMContentLoaded', function () {
  var list = document.querySelector('ol.timeline[data-events]');
  if (!list || !window.EventSource) return;
  var source = new EventSource(list.getAttribute('data-events'));
  source.addEventListener('telemetry', function (m) {
    var e = JSON.parse(m.data);
    var li = document.createElement('li');
    var time = document.createElement('time');
    time.setAttribute('datetime', e.at);
    time.textContent = e.at.replace('T', ' ').slice(0, 19);
    li.appendChild(time);
    li.appendChild(document.createTextNode(' ' + e.text));
    list.appendChild(li);
    if (e.type === 'job.finished') {
      source.close();
      // The record, output and provenance are final now: show them.
      setTimeout(function () { location.reload(); }, 500);
    }
  });
});
`
