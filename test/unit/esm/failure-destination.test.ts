import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileFailureDestination, toFailureRecord } from "#local/esm/failure-destination";
import { toStreamRecord } from "#local/esm/kinesis-event";

const context = {
  shardId: "shardId-000000000001",
  eventSourceArn: "arn:aws:kinesis:us-east-1:000000000000:stream/events",
  awsRegion: "us-east-1",
  invokeIdentityArn: "arn:aws:iam::000000000000:role/score-role",
};
const records = [
  toStreamRecord(
    {
      SequenceNumber: "100",
      PartitionKey: "a",
      Data: new TextEncoder().encode("one"),
      ApproximateArrivalTimestamp: new Date("2026-01-01T00:00:01.000Z"),
    },
    context,
  ),
  toStreamRecord(
    {
      SequenceNumber: "200",
      PartitionKey: "b",
      Data: new TextEncoder().encode("two"),
      ApproximateArrivalTimestamp: new Date("2026-01-01T00:00:02.500Z"),
    },
    context,
  ),
];
const base = {
  records,
  functionArn: "arn:aws:lambda:us-east-1:000000000000:function:Score",
  streamArn: context.eventSourceArn,
  invocations: 3,
};

describe("toFailureRecord", () => {
  it("has AWS's invocation record fields plus the records themselves", () => {
    const record = toFailureRecord(
      {
        ...base,
        condition: "RetryAttemptsExhausted",
        lastFailure: { errorType: "Error", errorMessage: "boom", functionError: true },
      },
      new Date("2026-01-01T00:01:00.000Z"),
    );
    expect(record).toMatchObject({
      requestContext: {
        functionArn: base.functionArn,
        condition: "RetryAttemptsExhausted",
        approximateInvokeCount: 3,
      },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      version: "1.0",
      timestamp: "2026-01-01T00:01:00.000Z",
      KinesisBatchInfo: {
        shardId: "shardId-000000000001",
        startSequenceNumber: "100",
        endSequenceNumber: "200",
        approximateArrivalOfFirstRecord: "2026-01-01T00:00:01.000Z",
        approximateArrivalOfLastRecord: "2026-01-01T00:00:02.500Z",
        batchSize: 2,
        streamArn: base.streamArn,
      },
      payload: { Records: records.map((r) => r.event) },
      lastError: { errorType: "Error", errorMessage: "boom" },
    });
    expect(record.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("has no functionError when the function answered with a partial batch failure", () => {
    const record = toFailureRecord(
      {
        ...base,
        condition: "RetryAttemptsExhausted",
        lastFailure: { errorType: "PartialBatchFailure", errorMessage: "x", functionError: false },
      },
      new Date(),
    );
    expect(record.responseContext).toEqual({ statusCode: 200, executedVersion: "$LATEST" });
  });

  it("has no error for records that expired before they were ever invoked", () => {
    const record = toFailureRecord({ ...base, invocations: 0, condition: "RecordAgeExceeded" }, new Date());
    expect(record.lastError).toBeUndefined();
    expect(record.requestContext).toMatchObject({
      condition: "RecordAgeExceeded",
      approximateInvokeCount: 0,
    });
  });
});

describe("FileFailureDestination", () => {
  it("appends one JSON line per discarded batch", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "vigil-failures-")), "nested", "Score.ndjson");
    const destination = new FileFailureDestination(path);
    await destination.send(toFailureRecord({ ...base, condition: "RecordAgeExceeded" }, new Date()));
    await destination.send(toFailureRecord({ ...base, condition: "RetryAttemptsExhausted" }, new Date()));
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    expect(lines.map((line) => JSON.parse(line).requestContext.condition)).toEqual([
      "RecordAgeExceeded",
      "RetryAttemptsExhausted",
    ]);
  });
});
