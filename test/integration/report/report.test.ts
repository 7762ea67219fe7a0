import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chartJsSource } from "#cli/report/generate-report";
import { REPORT_CHARTS, renderReportHtml } from "#cli/report/render-report";
import { FileReportReader } from "#shared/adapters/file-report-reader";
import { NdjsonAuditSink } from "#shared/adapters/ndjson-audit-sink";
import { installAuditIndex } from "#shared/adapters/opensearch-audit-setup";
import { OpenSearchAuditSink } from "#shared/adapters/opensearch-audit-sink";
import { createOpenSearchClient } from "#shared/adapters/opensearch-client";
import { OpenSearchReportReader, reportSearchBody } from "#shared/adapters/opensearch-report-reader";
import { OutboxAlertPublisher } from "#shared/adapters/outbox-alert-publisher";
import { buildNotification } from "#shared/domain/alerts/alert-notification";
import { auditIndexName, toAuditDocument } from "#shared/domain/audit/audit-document";
import { ACTIONS } from "#shared/domain/decision/action";
import { createPseudonymizer, type DecisionMessage } from "#shared/domain/decision-message/index";
import { EVENT_TYPES } from "#shared/domain/event/index";
import { bucketFor, type ReportData, type ReportQuery } from "#shared/domain/report/report-data";
import type { AuditItem } from "#shared/ports/audit-sink";
import { ENV } from "#shared/resources";
import { CANARY_VALUES, sampleMessage, TEST_KEY } from "../../fixtures/decision-messages.ts";
import { type FakeOpenSearch, startFakeOpenSearch } from "../../support/fake-opensearch.ts";
import { launchChromium } from "../../support/headless-chromium.ts";
import { VIGIL_BIN } from "../../support/processes.ts";

/**
 * The report, end to end: the same decisions written to local audit files and to OpenSearch give
 * equal report data through the two readers (OpenSearch: the local `_bulk`/`_search` server, or the
 * domain in VIGIL_TEST_OPENSEARCH_ENDPOINT); the HTML renders every chart in headless Chromium with
 * no network; the CLI writes it.
 */
const realEndpoint = process.env.VIGIL_TEST_OPENSEARCH_ENDPOINT;
const PREFIX = `vigil-report-${Date.now().toString(36)}`;
const UNTIL = new Date(Math.floor(Date.now() / 60_000) * 60_000);
const SPAN = 6 * 3_600_000;
const query: ReportQuery = {
  since: new Date(UNTIL.getTime() - SPAN),
  until: UNTIL,
  bucketMs: bucketFor(SPAN),
  top: 5,
};
const run = promisify(execFile);

/**
 * Runs in the page: for each canvas, its size, how many pixels are painted, and the sum of the
 * data Chart.js holds for it. (A string, because the test's TypeScript has no DOM types.)
 */
const CHART_PROBE = `Array.from(document.querySelectorAll("canvas")).map((canvas) => {
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
  const chart = Chart.getChart(canvas);
  const sum = chart ? chart.data.datasets.reduce((a, d) => a + d.data.reduce((x, y) => x + y, 0), 0) : -1;
  return { id: canvas.id, width: canvas.width, height: canvas.height, painted, sum };
})`;

/** 120 varied decisions over the window (and a few outside it). */
function decisions(): DecisionMessage[] {
  const p = createPseudonymizer(TEST_KEY);
  return Array.from({ length: 130 }, (_, i) => {
    const action = ACTIONS[(i * 7) % ACTIONS.length] ?? "pass";
    const decidedAt = new Date(UNTIL.getTime() - ((i * 2_711_000) % (SPAN + 3_600_000)) - 1).toISOString();
    const rules = [
      {
        id: `rule_${i % 4}`,
        version: 1,
        action,
        severity: "high" as const,
        reason: `R${i % 4}`,
        shadow: false,
      },
      ...(i % 3 === 0
        ? [{ id: `shadow_${i % 2}`, version: 1, action, severity: "low" as const, reason: "S", shadow: true }]
        : []),
    ];
    const m = sampleMessage(`rep-${i}`, {
      decidedAt,
      event: { occurredAt: decidedAt, type: EVENT_TYPES[i % EVENT_TYPES.length] } as never,
      decision: {
        action,
        score: i % 11 === 0 ? null : (i % 10) / 10 + 0.05,
        ruleHits: action === "pass" ? [] : rules,
      },
    });
    return {
      ...m,
      entities: {
        user: p("user", `user-${i % 9}`),
        device: p("device", `dev-${i % 4}`),
        ip: p("ip", `ip-${i % 13}`),
      },
    };
  });
}

describe("risk report", () => {
  let fake: FakeOpenSearch;
  let client: ReturnType<typeof createOpenSearchClient>;
  let auditDir: string;
  let fromFiles: ReportData;
  beforeAll(async () => {
    fake = await startFakeOpenSearch();
    client = realEndpoint
      ? createOpenSearchClient({ endpoint: realEndpoint, region: process.env.AWS_REGION ?? "us-east-1" })
      : createOpenSearchClient({
          endpoint: fake.endpoint,
          region: "us-east-1",
          getCredentials: async () => ({ accessKeyId: "test", secretAccessKey: "test" }),
        });
    await installAuditIndex(client, { prefix: PREFIX, retentionDays: 7, replicas: 0, shards: 1 });
    const items: AuditItem[] = decisions().map((m) => ({
      index: auditIndexName(PREFIX, m),
      id: m.eventId,
      document: toAuditDocument(m),
    }));
    auditDir = mkdtempSync(join(tmpdir(), "vigil-report-audit-"));
    await new NdjsonAuditSink(auditDir).write(items);
    const outcomes = await new OpenSearchAuditSink(client).write(items);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    if (realEndpoint) await client.indices.refresh({ index: `${PREFIX}-*` });
    fromFiles = await new FileReportReader(auditDir).read(query);
  });
  afterAll(async () => {
    await client?.close();
    await fake?.close();
  });

  it("gives the same numbers from OpenSearch aggregations as from the audit files", async () => {
    expect(fromFiles.total).toBeGreaterThan(100);
    expect(fromFiles.total).toBeLessThan(130);
    expect(fromFiles.topRules.length).toBeGreaterThan(2);
    expect(fromFiles.topEntities).toHaveLength(5);
    const fromOpenSearch = await new OpenSearchReportReader(client, PREFIX).read(query);
    expect(fromOpenSearch).toEqual(fromFiles);
  });

  it("asks OpenSearch with one size-0 search restricted to the window", () => {
    const body = reportSearchBody(query);
    expect(body.size).toBe(0);
    expect(body.query.range["@timestamp"]).toEqual({
      gte: query.since.toISOString(),
      lt: query.until.toISOString(),
    });
    expect(Object.keys(body.aggs).sort()).toEqual(
      ["active_rules", "by_scenario", "no_score", "over_time", "risky", "scores", "shadow_rules"].sort(),
    );
  });

  it("renders every chart in headless Chromium, offline, with the data it was given", async () => {
    const html = renderReportHtml(
      {
        ...fromFiles,
        quarantine: [
          { reason: "NOT_JSON", count: 3 },
          { reason: "AUDIT_REJECTED", count: 1 },
        ],
      },
      { chartJs: chartJsSource(), generatedAt: new Date(), source: "test" },
    );
    for (const canary of CANARY_VALUES) expect(html).not.toContain(canary);
    const file = join(mkdtempSync(join(tmpdir(), "vigil-report-html-")), "report.html");
    writeFileSync(file, html);
    const chromium = await launchChromium();
    try {
      const { context } = chromium;
      const requested: string[] = [];
      await context.route("**/*", (route) => {
        const url = route.request().url();
        if (url.startsWith("file:")) return route.continue();
        requested.push(url);
        return route.abort();
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(`file://${file}`);
      await page.waitForSelector(`body[data-charts-rendered="${REPORT_CHARTS.length}"]`, { timeout: 30_000 });
      const charts = (await page.evaluate(CHART_PROBE)) as Array<{
        id: string;
        width: number;
        height: number;
        painted: number;
        sum: number;
      }>;
      expect(charts.map((c) => c.id)).toEqual([...REPORT_CHARTS]);
      expect(errors).toEqual([]);
      expect(requested).toEqual([]);
      for (const c of charts) {
        expect(c.width, c.id).toBeGreaterThan(100);
        expect(c.painted, `${c.id} drew pixels`).toBeGreaterThan(2000);
      }
      const sum = (id: string) => charts.find((c) => c.id === id)?.sum;
      expect(sum("decisions-over-time")).toBe(fromFiles.total);
      expect(sum("actions-by-scenario")).toBe(fromFiles.total);
      expect(sum("score-distribution")).toBe(fromFiles.total - fromFiles.scores.noScore);
      expect(sum("quarantine-by-reason")).toBe(4);
      await page.screenshot({ path: file.replace(/\.html$/, ".png"), fullPage: true });
    } finally {
      await chromium.close();
    }
  });

  it("is written by `vigil report`, and `vigil alerts tail --once` prints the outbox", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "vigil-report-cli-")), "r.html");
    const env = { ...process.env, [ENV.auditDir]: auditDir, [ENV.openSearchEndpoint]: "" };
    const { stdout } = await run(
      "node",
      [VIGIL_BIN, "report", "--since", "6h", "--until", UNTIL.toISOString(), "--out", out, "--top", "5"],
      { env },
    );
    expect(JSON.parse(stdout)).toMatchObject({ path: out, decisions: fromFiles.total });
    const html = readFileSync(out, "utf8");
    expect(html).toContain('<canvas id="top-entities"');
    // The rules table: every rule that hit in the window, with its hits counted from the decisions.
    const inWindow = decisions().filter((m) => {
      const t = Date.parse(m.decidedAt);
      return t >= query.since.getTime() && t < query.until.getTime();
    });
    const hitsOf = (id: string) =>
      inWindow.filter((m) => m.ruleHits.some((h) => h.id === id && !h.shadow)).length;
    expect(html).toContain('<table id="rule-stats">');
    for (const id of ["rule_0", "rule_1", "rule_2", "rule_3"])
      expect(html).toMatch(new RegExp(`<td><code>${id}</code></td><td>${hitsOf(id)}</td>`));

    // vigil rules stats: the same table, with label shares from a label file.
    const labelled = inWindow.filter((m) => m.ruleHits.some((h) => h.id === "rule_1" && !h.shadow));
    const labelsFile = join(mkdtempSync(join(tmpdir(), "vigil-rule-labels-")), "labels.ndjson");
    writeFileSync(
      labelsFile,
      labelled
        .map((m, i) =>
          JSON.stringify({
            schemaVersion: 1,
            subject: { eventId: m.eventId },
            label: i % 3 === 0 ? "legit" : "fraud",
            source: "review",
            observedAt: UNTIL.toISOString(),
            author: "analyst",
          }),
        )
        .join("\n"),
    );
    const stats = await run(
      "node",
      [
        VIGIL_BIN,
        "rules",
        "stats",
        "--since",
        "6h",
        "--until",
        UNTIL.toISOString(),
        "--labels",
        labelsFile,
        "--json",
      ],
      { env },
    );
    const parsed = JSON.parse(stats.stdout) as {
      decisions: number;
      rules: { id: string; shadow: boolean; hits: number; fraud: number; legit: number; trend: number[] }[];
    };
    expect(parsed.decisions).toBe(fromFiles.total);
    const rule1 = parsed.rules.find((r) => r.id === "rule_1" && !r.shadow);
    expect(rule1?.hits).toBe(hitsOf("rule_1"));
    expect(rule1?.legit).toBe(labelled.filter((_, i) => i % 3 === 0).length);
    expect(rule1?.fraud).toBe(labelled.length - (rule1?.legit ?? 0));
    expect(rule1?.trend.reduce((a, b) => a + b, 0)).toBe(rule1?.hits);
    expect(parsed.rules.find((r) => r.id === "rule_2")?.fraud).toBe(0);

    const outbox = mkdtempSync(join(tmpdir(), "vigil-outbox-cli-"));
    const message = sampleMessage("tail-1", {});
    await new OutboxAlertPublisher(outbox).publish([
      buildNotification(message, "sms", "critical", 0),
      buildNotification(message, "email", "critical", 0),
    ]);
    const tail = await run("node", [VIGIL_BIN, "alerts", "tail", "--once", "--dir", outbox], {
      env: process.env,
    });
    const printed = tail.stdout.trim().split("\n");
    expect(printed).toHaveLength(2);
    expect(printed[0]).toMatch(/CRITICAL +sms +block payment +Vigil CRITICAL: block payment CARD_VELOCITY/);
    expect(printed[1]).toContain("[Vigil CRITICAL] block on payment");
  });
});
