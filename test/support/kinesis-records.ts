import type { KinesisStreamRecord } from "aws-lambda";
import {
  type DecisionMessage,
  decisionPartitionKey,
  encodeDecisionMessage,
} from "#shared/domain/decision-message/index";

const STREAM_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/vigil-test-decisions";

/** A decisions-stream record as Lambda delivers it, for calling a use case directly. */
export function decisionRecord(
  message: DecisionMessage | Uint8Array,
  sequenceNumber: string,
  shardId = "shardId-000000000000",
): KinesisStreamRecord {
  const data = message instanceof Uint8Array ? message : encodeDecisionMessage(message);
  return {
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: "aws:kinesis:record",
    eventSource: "aws:kinesis",
    eventSourceARN: STREAM_ARN,
    eventVersion: "1.0",
    awsRegion: "us-east-1",
    invokeIdentityArn: "arn:aws:iam::000000000000:role/test",
    kinesis: {
      kinesisSchemaVersion: "1.0",
      partitionKey: message instanceof Uint8Array ? "pk" : decisionPartitionKey(message),
      sequenceNumber,
      data: Buffer.from(data).toString("base64"),
      // date-safe: arrival of a decisions-stream record; the alert use case stores nothing by it.
      approximateArrivalTimestamp: Date.parse("2026-05-01T10:00:00.500Z") / 1000,
    },
  };
}

/** A logger that keeps every line, to check what would reach CloudWatch. */
export function memoryLogger() {
  const lines: string[] = [];
  const log = (level: string) => (message: string, extra: Record<string, unknown>) => {
    lines.push(JSON.stringify({ level, message, ...extra }));
  };
  return { lines, info: log("INFO"), warn: log("WARN"), error: log("ERROR") };
}
