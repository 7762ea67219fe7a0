import { ACTIONS, type Action } from "#shared/domain/decision/action";
import { EVENT_TYPES } from "#shared/domain/event/index";
import { type ReportData, SCORE_BINS } from "#shared/domain/report/report-data";
import { type RuleStats, sparkline } from "#shared/domain/report/rule-stats";

/** Colours per action, mildest to strongest. */
const ACTION_COLORS: Readonly<Record<Action, string>> = {
  pass: "#4caf50",
  review: "#2196f3",
  challenge_sms: "#ffc107",
  challenge_face: "#ff9800",
  block: "#f44336",
};

/** Ids of the charts, in page order; the test checks each one drew. */
export const REPORT_CHARTS = [
  "decisions-over-time",
  "actions-by-scenario",
  "top-rules",
  "score-distribution",
  "top-entities",
  "quarantine-by-reason",
] as const;

const escapeHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** JSON safe inside a <script> element: no `</script>`, no HTML comment openers, no U+2028/9. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** A library's source inside a <script> element: a literal `</script` would end the element. */
const scriptSource = (source: string) => source.replace(/<\/script/gi, "<\\/script");

function formatBucket(iso: string, bucketMs: number): string {
  return bucketMs >= 86_400_000 ? iso.slice(0, 10) : `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

/** The chart configurations (Chart.js), built from the data; animation off so a chart draws at once. */
export function chartConfigs(data: ReportData) {
  const base = { animation: false, responsive: true, maintainAspectRatio: false } as const;
  const stacked = { x: { stacked: true }, y: { stacked: true, beginAtZero: true } };
  const labels = data.overTime.buckets.map((b) => formatBucket(b, data.bucketMs));
  const quarantine = data.quarantine ?? [];
  return {
    "decisions-over-time": {
      type: "bar",
      data: {
        labels,
        datasets: ACTIONS.map((a) => ({
          label: a,
          data: data.overTime.byAction[a],
          backgroundColor: ACTION_COLORS[a],
        })),
      },
      options: { ...base, scales: stacked },
    },
    "actions-by-scenario": {
      type: "bar",
      data: {
        labels: [...EVENT_TYPES],
        datasets: ACTIONS.map((a) => ({
          label: a,
          data: EVENT_TYPES.map((t) => data.byScenario[t][a]),
          backgroundColor: ACTION_COLORS[a],
        })),
      },
      options: {
        ...base,
        indexAxis: "y",
        scales: { x: { stacked: true, beginAtZero: true }, y: { stacked: true } },
      },
    },
    "top-rules": {
      type: "bar",
      data: {
        labels: data.topRules.map((r) => r.id),
        datasets: [
          { label: "active hits", data: data.topRules.map((r) => r.active), backgroundColor: "#f44336" },
          { label: "shadow hits", data: data.topRules.map((r) => r.shadow), backgroundColor: "#9e9e9e" },
        ],
      },
      options: { ...base, indexAxis: "y", scales: { x: { beginAtZero: true } } },
    },
    "score-distribution": {
      type: "bar",
      data: {
        labels: Array.from(
          { length: SCORE_BINS },
          (_, i) => `${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}`,
        ),
        datasets: [{ label: "decisions", data: data.scores.bins, backgroundColor: "#673ab7" }],
      },
      options: { ...base, scales: { y: { beginAtZero: true } } },
    },
    "top-entities": {
      type: "bar",
      data: {
        labels: data.topEntities.map((e) => `${e.kind} ${e.id}`),
        datasets: [
          {
            label: "risky decisions",
            data: data.topEntities.map((e) => e.risky),
            backgroundColor: "#ff9800",
          },
          { label: "blocks", data: data.topEntities.map((e) => e.blocks), backgroundColor: "#f44336" },
        ],
      },
      options: { ...base, indexAxis: "y", scales: { x: { beginAtZero: true } } },
    },
    "quarantine-by-reason": {
      type: "bar",
      data: {
        labels: quarantine.map((q) => q.reason),
        datasets: [{ label: "records", data: quarantine.map((q) => q.count), backgroundColor: "#795548" }],
      },
      options: { ...base, indexAxis: "y", scales: { x: { beginAtZero: true } } },
    },
  } satisfies Record<(typeof REPORT_CHARTS)[number], unknown>;
}

/** Options of {@link renderReportHtml}. */
export interface RenderOptions {
  /** Chart.js UMD source, inlined so the file needs no network. */
  readonly chartJs: string;
  readonly generatedAt: Date;
  /** Where the numbers came from, for the header (e.g. "audit files .vigil/audit"). */
  readonly source: string;
  /** Per-rule statistics (`vigil rules stats`), or why there are none. */
  readonly ruleStats?: RuleStats | { readonly unavailable: string };
}

/** The rules table: per rule, hits, what it drove, the actions of its hits, label shares, trend. */
export function ruleStatsHtml(stats: RenderOptions["ruleStats"]): string {
  if (stats === undefined) return "";
  if ("unavailable" in stats)
    return `<section class="wide"><h2>Rules</h2><p class="note">${escapeHtml(stats.unavailable)}</p></section>`;
  const pct = (x: number | null) => (x === null || !stats.labelled ? "–" : `${(x * 100).toFixed(1)}%`);
  const rows = stats.rules
    .map(
      (r) =>
        `<tr><td><code>${escapeHtml(r.id)}</code>${r.shadow ? " (shadow)" : ""}</td><td>${r.hits}</td><td>${r.drove}</td><td>${ACTIONS.filter(
          (a) => r.actions[a] > 0,
        )
          .map((a) => `${escapeHtml(a)} ${r.actions[a]}`)
          .join(
            ", ",
          )}</td><td>${pct(r.fraudShare)}</td><td>${pct(r.legitShare)}</td><td class="spark">${escapeHtml(sparkline(r.trend))}</td><td>${r.change === null ? "–" : `×${r.change.toFixed(2)}`}</td></tr>`,
    )
    .join("");
  const note = `${stats.decisions} decisions; drove: hits whose decision took the rule's action; fraud/legit: share of its hits labelled so${stats.labelled ? "" : " (no labels given)"}; trend: hits in ${stats.buckets.length} equal buckets; change: second half over first half`;
  return `<section class="wide"><h2>Rules</h2><p class="note">${escapeHtml(note)}</p>
<table id="rule-stats"><thead><tr><th>rule</th><th>hits</th><th>drove</th><th>actions of its hits</th><th>fraud</th><th>legit</th><th>trend</th><th>change</th></tr></thead><tbody>${rows || '<tr><td colspan="8">no rule hit in the window</td></tr>'}</tbody></table></section>`;
}

/**
 * One self-contained HTML file: the data, Chart.js and the page script inline, no external
 * request of any kind. When every chart has drawn, the page sets `data-charts-rendered` on
 * `<body>` to the number of charts (what the headless-browser test waits for).
 */
export function renderReportHtml(data: ReportData, options: RenderOptions): string {
  const title = `Vigil risk report ${data.since.slice(0, 16)}Z – ${data.until.slice(0, 16)}Z`;
  const actionTotals = ACTIONS.map((a) => [a, data.overTime.byAction[a].reduce((x, y) => x + y, 0)] as const);
  const section = (id: string, heading: string, note = "") =>
    `<section><h2>${escapeHtml(heading)}</h2>${note ? `<p class="note">${escapeHtml(note)}</p>` : ""}<div class="chart"><canvas id="${id}" role="img" aria-label="${escapeHtml(heading)}"></canvas></div></section>`;
  const entityRows = data.topEntities
    .map(
      (e) =>
        `<tr><td>${escapeHtml(e.kind)}</td><td><code>${escapeHtml(e.id)}</code></td><td>${e.risky}</td><td>${e.blocks}</td><td>${e.maxScore === null ? "–" : e.maxScore.toFixed(3)}</td></tr>`,
    )
    .join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:1.4em;margin:0 0 4px}h2{font-size:1.1em;margin:0 0 8px}
.meta,.note{color:#666;font-size:.9em}
.totals{display:flex;gap:16px;flex-wrap:wrap;margin:16px 0}
.totals div{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 12px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px}
section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px}
.chart{position:relative;height:320px}
table{border-collapse:collapse;width:100%;font-size:.9em;margin-top:8px}td,th{border-bottom:1px solid #eee;padding:4px 6px;text-align:left}
code{font-size:.95em}
.wide{margin-top:16px}.spark{font-family:monospace;letter-spacing:1px}
</style>
</head>
<body data-charts-rendered="0">
<h1>${escapeHtml(title)}</h1>
<p class="meta">Generated ${escapeHtml(options.generatedAt.toISOString())} from ${escapeHtml(options.source)}. Identifiers are keyed pseudonyms; no personal data is in this file.</p>
<div class="totals"><div><b>${data.total}</b> decisions</div>${actionTotals.map(([a, n]) => `<div>${escapeHtml(a)}: <b>${n}</b></div>`).join("")}</div>
<div class="grid">
${section("decisions-over-time", "Decisions over time, by action", `bucket ${data.bucketMs / 60_000} min`)}
${section("actions-by-scenario", "Actions by scenario")}
${section("top-rules", "Top rules by hits (active and shadow)")}
${section("score-distribution", "Model score distribution", `${data.scores.noScore} decision(s) without a score`)}
<section><h2>Top risky entities (pseudonymous)</h2><p class="note">Decisions other than pass, per entity</p><div class="chart"><canvas id="top-entities" role="img" aria-label="Top risky entities"></canvas></div>
<table><thead><tr><th>kind</th><th>pseudonym</th><th>risky</th><th>blocks</th><th>max score</th></tr></thead><tbody>${entityRows}</tbody></table></section>
${section("quarantine-by-reason", "Quarantine by reason", data.quarantine === null ? "quarantine table not reachable: not counted" : "")}
</div>
${ruleStatsHtml(options.ruleStats)}
<script>${scriptSource(options.chartJs)}</script>
<script id="report-data" type="application/json">${scriptJson(chartConfigs(data))}</script>
<script>
(function () {
  var configs = JSON.parse(document.getElementById("report-data").textContent);
  var drawn = 0;
  window.vigilCharts = {};
  Object.keys(configs).forEach(function (id) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    window.vigilCharts[id] = new Chart(canvas, configs[id]);
    drawn++;
  });
  document.body.setAttribute("data-charts-rendered", String(drawn));
})();
</script>
</body>
</html>
`;
}
