/**
 * Every price and workload figure `npm run cost` assumes, in one place.
 *
 * Prices: AWS public on-demand list prices for us-east-1 (N. Virginia) in USD, without free tier,
 * savings plans or reserved capacity, as known when written down on 2026-12-06. AWS changes prices
 * (DynamoDB on-demand halved in November 2024, for instance): check the pricing pages or the Price
 * List API before relying on a figure, and change it here.
 *
 * Workload: what one event costs in requests and bytes, with where each figure comes from. Figures
 * measured in this repository say which command reproduces them; the others are assumptions, named
 * as such.
 */

/** The date the prices below were written down. */
export const PRICES_AS_OF = "2026-12-06";

/** Hours in a month (AWS bills 730). */
export const HOURS_PER_MONTH = 730;

/** Days in a month for per-day volumes (365 / 12). */
export const DAYS_PER_MONTH = 30.42;

/** List prices by service (USD, us-east-1, on demand); see the header for their date and caveats. */
export const PRICES = {
  kinesis: {
    /** Provisioned mode, per shard-hour. */
    shardHour: 0.015,
    /** Provisioned mode, per million PUT payload units (25 KB each, at least one per record). */
    putPayloadUnitsPerMillion: 0.014,
    /** Extended retention (over 24 h, up to 7 days), per shard-hour. */
    extendedRetentionShardHour: 0.02,
    /** On-demand mode, per stream-hour. */
    onDemandStreamHour: 0.04,
    /** On-demand mode, per GB written (each record rounded up to 1 KB). */
    onDemandIngestGB: 0.08,
    /** On-demand mode, per GB read by shared-throughput consumers (each record rounded up to 1 KB). */
    onDemandRetrievalGB: 0.04,
    /** On-demand mode, extended retention per GB-month. */
    onDemandExtendedRetentionGBMonth: 0.1,
  },
  dynamodb: {
    /** On-demand, per million write request units (1 KB each). */
    writeRequestUnitsPerMillion: 0.625,
    /** On-demand, per million read request units (4 KB strongly consistent each). */
    readRequestUnitsPerMillion: 0.125,
    /** Provisioned, per WCU-hour and RCU-hour. */
    wcuHour: 0.00065,
    rcuHour: 0.00013,
    /** Standard table class storage, per GB-month. */
    storageGBMonth: 0.25,
    /** Continuous backups (point-in-time recovery), per GB-month of table size. */
    pitrGBMonth: 0.2,
  },
  s3: {
    /** S3 Standard, Standard-IA and Glacier Instant Retrieval storage, per GB-month. */
    standardGBMonth: 0.023,
    infrequentAccessGBMonth: 0.0125,
    glacierInstantGBMonth: 0.004,
    /** PUT requests, per 1,000 (Standard). */
    putsPer1k: 0.005,
    /** Lifecycle transitions, per 1,000 objects (to Standard-IA, to Glacier Instant Retrieval). */
    transitionsPer1k: 0.01 + 0.02,
    /** GET requests, per 1,000, by storage class (backtests read the archive). */
    getsPer1k: { standard: 0.0004, infrequentAccess: 0.001, glacierInstant: 0.01 },
    /** Data retrieval, per GB read, by storage class (Standard: none). */
    retrievalGB: { standard: 0, infrequentAccess: 0.01, glacierInstant: 0.03 },
    /** Data transfer out to the internet, per GB (first 10 TB a month): a backtest run off AWS. */
    transferOutGB: 0.09,
  },
  stepFunctions: {
    /** Standard workflows, per 1,000 state transitions. */
    standardTransitionsPer1k: 0.025,
    /** Express workflows (the distributed map's children), per million requests. */
    expressRequestsPerMillion: 1,
    /** Express workflows, per GB-second (billed in 64 MB steps, first tier). */
    expressGBSecond: 0.00001667,
  },
  lambda: {
    /** Arm64, per GB-second. */
    gbSecondArm: 0.0000133334,
    requestsPerMillion: 0.2,
  },
  cloudwatch: {
    /** Custom metrics, per metric-month (first 10,000 tier). */
    metricMonth: 0.3,
    /** Standard-resolution alarm, per metric it evaluates per month. */
    alarmMetricMonth: 0.1,
    /** An anomaly detection alarm evaluates the metric and its band: three metrics each. */
    anomalyAlarmMetricsPerMetric: 3,
    /** Dashboard per month (the first three of an account are free; not counted here). */
    dashboardMonth: 3,
    /** Logs ingestion (standard class), per GB. */
    logsIngestGB: 0.5,
    /** Logs storage, per GB-month (compressed; counted uncompressed here, an overestimate). */
    logsStorageGBMonth: 0.03,
    /** Vended logs (VPC flow logs), per GB. */
    vendedLogsIngestGB: 0.5,
  },
  kms: {
    keyMonth: 1,
    requestsPer10k: 0.03,
  },
  secretsManager: { secretMonth: 0.4, apiCallsPer10k: 0.05 },
  sns: {
    publishesPerMillion: 0.5,
    /** Email notifications, per 100,000. */
    emailPer100k: 2,
    /** One SMS to a US number including carrier fees (other countries differ widely). */
    smsUS: 0.00883,
  },
  sqs: { requestsPerMillion: 0.4 },
  vpc: {
    /** Interface endpoint, per AZ-hour, and per GB processed. */
    interfaceEndpointAzHour: 0.01,
    interfaceEndpointGB: 0.01,
  },
  opensearch: {
    /** On-demand instance-hours by instance type. */
    instanceHour: {
      "t3.small.search": 0.036,
      "t3.medium.search": 0.073,
      "m6g.large.search": 0.128,
      "m7g.large.search": 0.136,
      "m7g.xlarge.search": 0.272,
      "c6g.large.search": 0.113,
      "r6g.large.search": 0.167,
      "r7g.large.search": 0.1785,
      "r7g.xlarge.search": 0.357,
      "r7g.2xlarge.search": 0.714,
    } as Readonly<Record<string, number>>,
    /** gp3 EBS storage, per GB-month (3,000 IOPS and 125 MiB/s included). */
    gp3GBMonth: 0.122,
  },
} as const;

/**
 * What one event costs in requests and bytes beyond what the template says (shards, memory, batch
 * sizes, retention, sizing come from the synthesized template).
 */
export const WORKLOAD = {
  /**
   * Bytes of an event as producers put it: mean 309 B, max 368 B over the 4,270 events of the default
   * simulated mix (`npx tsx scripts/cost/measure-payload-sizes.ts`). Real events carry more
   * `attributes`; 1 KB is what on-demand Kinesis bills per record anyway.
   */
  eventBytes: 309,
  /**
   * Bytes of a decision message: mean 1,192 B (block 1,970 B, max 2,508 B) over the same mix
   * (`npx tsx scripts/cost/measure-payload-sizes.ts`).
   */
  decisionMessageBytes: 1192,
  /**
   * DynamoDB state per event, measured by `npm run bench:features` (docs/features.md, section Cost):
   * 4.04 write capacity units and 2.17 read capacity units per event with the 40 default features
   * of issue 16 (3.09 and 1.55 with the 22 before), batches of 100 per shard, two shards.
   */
  stateWriteUnitsPerEvent: 4.04,
  stateReadUnitsPerEvent: 2.17,
  /**
   * The decision item (decision, the feature values used, where the record came from, attribute names):
   * assumed 1.5 KB, so 2 write units per conditional put; the duplicate check reads each eventId with
   * a strongly consistent BatchGetItem, 1 read unit per key (also when absent).
   */
  decisionWriteUnitsPerEvent: 2,
  decisionReadUnitsPerEvent: 1,
  /** Bytes a decision item occupies in the table (assumption, as above). */
  decisionItemBytes: 1500,
  /**
   * State items live as long as their longest window after the entity's last event (30 days with the
   * default features). Assumption: 0.3 distinct entity items per event stay live (entities recur
   * across a month), 1.5 KB each.
   */
  liveStateItemsPerEvent: 0.3,
  stateItemBytes: 1500,
  /**
   * Alert deliveries per million events after the alert function's per-entity throttling (the
   * alerts go to the fraud team, not to customers). Assumption: 100 SMS and 500 emails; each
   * delivery costs about 9 write units and 3 read units in the alerts table (claim, throttle
   * windows in a transaction, state updates).
   */
  smsPerMillionEvents: 100,
  emailsPerMillionEvents: 500,
  alertWriteUnitsPerDelivery: 9,
  alertReadUnitsPerDelivery: 3,
  /**
   * Lambda duration per invocation: a fixed part and a part per record (I/O-bound, so taken as
   * independent of memory). Assumptions, not measurements on AWS: score 60 ms + 3 ms per event
   * (BatchGetItem of the batch's entities and eventIds, one UpdateItem per entity in parallel, a
   * PutItem per decision, one PutRecords); alert 20 ms + 0.3 ms per decision; audit 80 ms + 0.4 ms
   * per decision (one `_bulk` request).
   */
  durationMs: {
    score: { perInvocation: 60, perRecord: 3 },
    alert: { perInvocation: 20, perRecord: 0.3 },
    audit: { perInvocation: 80, perRecord: 0.4 },
    archive: { perInvocation: 40, perRecord: 0.02 },
  } as Readonly<Record<string, { readonly perInvocation: number; readonly perRecord: number }>>,
  /**
   * CloudWatch Logs bytes per invocation: Lambda's START/END/REPORT lines (about 400 B) plus the
   * EMF metric documents. Score writes one document of totals, one per quarantine reason and two per
   * rule evaluated (evaluations and hits) per batch, about 250 B each.
   */
  platformLogBytesPerInvocation: 400,
  emfDocumentBytes: 250,
  /**
   * Custom metric series that exist in a month: score's 6 totals, put-to-decision latency, late
   * events and decisions without configured rules, Decisions by scenario and action (those seen:
   * assumed 15 of 25), quarantine reasons seen (assumed 8), rule evaluations and hits per rule and
   * mode (two per shipped rule) and rule errors (assumed 2); alert's 6 and audit's 4.
   */
  metricSeriesBeyondRules: 6 + 3 + 15 + 8 + 2 + 6 + 4,
  shippedRules: 15,
  /**
   * Metrics a Metrics Insights alarm analyzes (rule errors over every rule, config errors over
   * every kind): assumed 10 each.
   */
  insightsAlarmMetrics: 10,
  /**
   * KMS requests are few: Kinesis, DynamoDB, SNS and SQS cache data keys for minutes. Assumption:
   * 50,000 requests a month.
   */
  kmsRequestsPerMonth: 50_000,
  /**
   * The event archive: gzip NDJSON of the records as received with shard, sequence number and
   * arrival time (about 2.3x the event in base64 and JSON) compresses to about a quarter: assumption,
   * 0.6 of the event's bytes per archived record. Objects move to Standard-IA at 30 days, Glacier
   * Instant Retrieval at 90, and expire at 400 (infra/constructs/event-archive.ts).
   */
  archiveBytesPerEvent: 0.6 * 309,
  archiveTierDays: { standard: 30, infrequentAccess: 60, glacierInstant: 310 },
  /** Flow log bytes a month in the audit VPC (a few long-lived connections): assumption, 1 GB. */
  flowLogGBPerMonth: 1,
  /**
   * On-demand Kinesis starts with 4 MB/s of write capacity per stream (4 shards), which is where
   * batches form at low volume.
   */
  onDemandShards: 4,
} as const;

/**
 * What a stored-vector backtest costs per archived event (docs/backtest.md, "What a backtest
 * costs"). CPU: measured by `npm run bench:engine` (stored-vector backtest, 12,259 events per CPU
 * second: decoding, two decisions, the tally; docs/decision-engine.md). The rest are assumptions,
 * named as such.
 */
export const BACKTEST_WORKLOAD = {
  /** Measured: events per CPU second of the stored-vector backtest (`npm run bench:engine`). */
  eventsPerCpuSecond: 12_259,
  /**
   * Assumption: wall time per BatchGetItem of 100 stored decisions from Lambda in the region
   * (the decision store sends them one after another).
   */
  batchGetSeconds: 0.01,
  /** Assumption: wall time per GET of an archive object from Lambda in the region. */
  objectGetSeconds: 0.03,
  /**
   * Assumption: records per archive object. The archive function writes one object per batch
   * (up to 1,000 records, 10 s batching window): 1,000 at high rates, far fewer at low ones.
   */
  recordsPerObject: [1_000, 100],
  /** The worker's memory (infra/constructs/distributed-backtest.ts): one full vCPU. */
  workerMemoryMiB: 1769,
  /** Archive objects per Lambda invocation (the map's batches). */
  objectsPerBatch: 20,
  /** Memory an Express child execution is billed for (its minimum step; it only waits for Lambda). */
  expressChildMemoryMiB: 64,
  /**
   * Assumption: state transitions of the parent Standard execution: its own few, plus one per
   * child the map starts (counted as a transition, the pessimistic reading of the pricing page).
   */
  parentTransitionsFixed: 5,
  /**
   * Read units per stored decision: strongly consistent BatchGetItem of an item under 4 KB (the
   * decision item is assumed 1.5 KB, as for score, `WORKLOAD.decisionReadUnitsPerEvent`).
   */
  decisionReadUnitsPerEvent: 1,
} as const;
