import { existsSync, lstatSync, mkdtempSync, readFileSync, symlinkSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { auditFileName, NdjsonAuditSink } from "#shared/adapters/ndjson-audit-sink";
import { toAuditDocument } from "#shared/domain/audit/audit-document";
import { sampleMessage } from "../../fixtures/decision-messages.ts";

const item = (id: string) => ({
  index: "vigil-audit-test",
  id,
  document: toAuditDocument(sampleMessage(id)),
});

describe("NdjsonAuditSink", () => {
  it("creates each id once, also within one call, and knows ids a restarted process wrote", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-ndjson-"));
    expect(await new NdjsonAuditSink(dir).write([item("a"), item("b"), item("a")])).toEqual([
      { ok: true, result: "created" },
      { ok: true, result: "created" },
      { ok: true, result: "exists" },
    ]);
    expect(await new NdjsonAuditSink(dir).write([item("b"), item("c")])).toEqual([
      { ok: true, result: "exists" },
      { ok: true, result: "created" },
    ]);
    const lines = readFileSync(join(dir, auditFileName("vigil-audit-test")), "utf8")
      .trim()
      .split("\n");
    expect(lines).toHaveLength(6);
  });

  it("marks an id as written only after the append succeeded: a failed write is retryable and the retry writes it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-ndjson-"));
    const sink = new NdjsonAuditSink(dir);
    const file = join(dir, auditFileName("vigil-audit-test"));
    // The file is a full disk (/dev/full): every append fails with ENOSPC, even for root.
    symlinkSync("/dev/full", file);
    const [failed] = await sink.write([item("x")]);
    expect(failed).toMatchObject({ ok: false, retryable: true, reason: "ENOSPC" });
    expect(JSON.stringify(failed)).not.toContain(dir);
    // Space again: the retry writes the document (it was never in the file).
    unlinkSync(file);
    expect(await sink.write([item("x")])).toEqual([{ ok: true, result: "created" }]);
    expect(existsSync(file) && lstatSync(file).isFile()).toBe(true);
    expect(readFileSync(file, "utf8")).toContain('"_id":"x"');
  });
});
