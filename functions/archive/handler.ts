import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import { archiveRecords } from "#functions/archive/archive-records";
import { loadArchiveConfig } from "#functions/archive/config";
import { FileObjectStore } from "#shared/adapters/file-object-store";
import { createS3Client, S3ObjectStore } from "#shared/adapters/s3-object-store";
import { ARCHIVE_METRICS } from "#shared/metrics";
import { METRICS_NAMESPACE } from "#shared/resources";

// Composition root: configuration and clients are built once per container (cold start).
const target = loadArchiveConfig(process.env);
const logger = new Logger({ serviceName: "vigil-archive" });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: "vigil-archive" });
const store =
  target.kind === "s3" ? new S3ObjectStore(createS3Client(), target.bucket) : new FileObjectStore(target.dir);

/** Kinesis-triggered entry point: writes a batch of events-stream records to the archive as received. */
export async function handler(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
  const result = await archiveRecords(event.Records, { store, logger });
  metrics.addMetric(ARCHIVE_METRICS.archived, MetricUnit.Count, result.counts.archived);
  metrics.addMetric(ARCHIVE_METRICS.objects, MetricUnit.Count, result.counts.objects);
  metrics.addMetric(ARCHIVE_METRICS.failed, MetricUnit.Count, result.counts.failed);
  metrics.publishStoredMetrics();
  return result.response;
}
