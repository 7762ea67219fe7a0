import { ENV, STREAMS } from "#shared/resources";
import { DAYS_PER_MONTH, HOURS_PER_MONTH, PRICES, WORKLOAD } from "./pricing.ts";

/** A resource of a synthesized CloudFormation template. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** One line of the estimate: a service, what is counted, and its monthly cost (USD). */
export interface CostLine {
  readonly service: string;
  readonly item: string;
  /** Cost that does not depend on the event volume. */
  readonly fixed: number;
  /** Cost at the given volume. */
  readonly variable: number;
  /** OpenSearch instances and storage: sized, not per event; reported apart from the per-event target. */
  readonly auditInstances?: boolean;
}

/** The estimate for one template and one volume. */
export interface CostEstimate {
  readonly eventsPerDay: number;
  readonly eventsPerMonth: number;
  readonly lines: readonly CostLine[];
  readonly fixed: number;
  readonly variable: number;
  /** Variable cost per million events. */
  readonly variablePerMillion: number;
  /** Fixed cost without the OpenSearch instances and storage. */
  readonly fixedWithoutAuditInstances: number;
  /** Capacity the volume needs that the template does not have. */
  readonly warnings: readonly string[];
}

/** Kinesis limits per provisioned shard: 1,000 records and 1 MiB a second written. */
const SHARD_RECORDS_PER_SECOND = 1000;
const SHARD_BYTES_PER_SECOND = 1024 ** 2;

interface FunctionInfo {
  readonly logicalId: string;
  readonly service: string;
  readonly memoryMiB: number;
  readonly environment: Readonly<Record<string, unknown>>;
}

interface MappingInfo {
  readonly service: string;
  readonly batchSize: number;
  readonly windowSeconds: number;
  readonly streamId: string;
}

const ref = (value: unknown): string | undefined =>
  (value as { Ref?: string } | undefined)?.Ref ??
  (value as { "Fn::GetAtt"?: [string, string] } | undefined)?.["Fn::GetAtt"]?.[0];

/**
 * Monthly cost of a synthesized Vigil template at a volume: resource counts, shard counts and
 * modes, retention, table billing, function memory, batch sizes, alarms, keys and the audit
 * domain's instances come from the template; requests and bytes per event from `WORKLOAD`; prices
 * from `PRICES` (`scripts/cost/pricing.ts`). Pure.
 */
export function estimateCost(
  resources: Readonly<Record<string, TemplateResource>>,
  eventsPerDay: number,
): CostEstimate {
  const all = Object.entries(resources);
  const ofType = (type: string) => all.filter(([, r]) => r.Type === type);
  const eventsPerMonth = eventsPerDay * DAYS_PER_MONTH;
  const eventsPerSecond = eventsPerDay / 86_400;
  const lines: CostLine[] = [];
  const line = (l: CostLine) => lines.push(l);
  const warnings: string[] = [];

  // Functions and their mappings.
  const functions = new Map<string, FunctionInfo>();
  for (const [id, r] of ofType("AWS::Lambda::Function")) {
    const environment =
      (r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    functions.set(id, {
      logicalId: id,
      service: String(environment[ENV.serviceName] ?? id),
      memoryMiB: Number(r.Properties?.MemorySize ?? 128),
      environment,
    });
  }
  const mappings: MappingInfo[] = ofType("AWS::Lambda::EventSourceMapping").map(([, r]) => ({
    service: functions.get(ref(r.Properties?.FunctionName) ?? "")?.service ?? "unknown",
    batchSize: Number(r.Properties?.BatchSize ?? 100),
    windowSeconds: Number(r.Properties?.MaximumBatchingWindowInSeconds ?? 0),
    streamId: ref(r.Properties?.EventSourceArn) ?? "",
  }));

  // Kinesis.
  const streams = ofType("AWS::Kinesis::Stream");
  const shardsOf = new Map<string, number>();
  for (const [id, r] of streams) {
    const isEvents = id.includes(STREAMS.events.id) && !id.includes(STREAMS.decisions.id);
    const recordBytes = isEvents ? WORKLOAD.eventBytes : WORKLOAD.decisionMessageBytes;
    const name = isEvents ? "events" : "decisions";
    const consumers = mappings.filter((m) => m.streamId === id).length;
    const retentionHours = Number(r.Properties?.RetentionPeriodHours ?? 24);
    const onDemand =
      (r.Properties?.StreamModeDetails as { StreamMode?: string } | undefined)?.StreamMode === "ON_DEMAND";
    const kb = Math.ceil(recordBytes / 1024);
    if (onDemand) {
      const shards = Math.max(
        WORKLOAD.onDemandShards,
        Math.ceil(eventsPerSecond / 1000),
        Math.ceil((eventsPerSecond * kb) / 1024),
      );
      shardsOf.set(id, shards);
      const ingestGB = (eventsPerMonth * kb) / 1024 ** 2;
      const extraRetentionGBMonth =
        retentionHours > 24 ? ingestGB * ((retentionHours - 24) / 24 / DAYS_PER_MONTH) : 0;
      line({
        service: "Kinesis",
        item: `${name} stream, on demand, ${retentionHours} h (${consumers} consumer${consumers === 1 ? "" : "s"}, ${kb} KB billed per record)`,
        fixed: HOURS_PER_MONTH * PRICES.kinesis.onDemandStreamHour,
        variable:
          ingestGB * PRICES.kinesis.onDemandIngestGB +
          ingestGB * consumers * PRICES.kinesis.onDemandRetrievalGB +
          extraRetentionGBMonth * PRICES.kinesis.onDemandExtendedRetentionGBMonth,
      });
    } else {
      const shards = Number(r.Properties?.ShardCount ?? 1);
      shardsOf.set(id, shards);
      const load = Math.max(
        eventsPerSecond / shards / SHARD_RECORDS_PER_SECOND,
        (eventsPerSecond * recordBytes) / shards / SHARD_BYTES_PER_SECOND,
      );
      if (load > 0.5)
        warnings.push(
          `the ${name} stream runs at ${Math.round(load * 100)}% of its ${shards} shards' write limit on average: ` +
            `peaks above ${(1 / load).toFixed(1)}x the average are throttled; add shards (-c vigil:${name}Shards=<n>)`,
        );
      const units = Math.ceil(recordBytes / 25_600);
      line({
        service: "Kinesis",
        item: `${name} stream, ${shards} provisioned shard${shards === 1 ? "" : "s"}, ${retentionHours} h`,
        fixed:
          shards * HOURS_PER_MONTH * PRICES.kinesis.shardHour +
          (retentionHours > 24 ? shards * HOURS_PER_MONTH * PRICES.kinesis.extendedRetentionShardHour : 0),
        variable: ((eventsPerMonth * units) / 1e6) * PRICES.kinesis.putPayloadUnitsPerMillion,
      });
    }
  }

  // Lambda: records per invocation follow the rate per shard and the batching window.
  const invocationsOf = new Map<string, number>();
  for (const mapping of mappings) {
    const fn = [...functions.values()].find((f) => f.service === mapping.service);
    const key = mapping.service.replace(/^vigil-/, "");
    const duration = WORKLOAD.durationMs[key];
    if (!fn || !duration) continue;
    const shards = shardsOf.get(mapping.streamId) ?? 1;
    const perShardPerSecond = eventsPerSecond / shards;
    const recordsPerInvocation = Math.max(
      1,
      Math.min(mapping.batchSize, perShardPerSecond * Math.max(1, mapping.windowSeconds)),
    );
    const invocations = eventsPerMonth / recordsPerInvocation;
    invocationsOf.set(key, invocations);
    // One invocation at a time per shard: what a shard can take through this function.
    const perShardCapacity =
      (mapping.batchSize * 1000) / (duration.perInvocation + mapping.batchSize * duration.perRecord);
    if (perShardPerSecond > 0.7 * perShardCapacity)
      warnings.push(
        `${key} takes at most ~${Math.round(perShardCapacity)} records/s per shard with the assumed duration; ` +
          `${Math.round(perShardPerSecond)} arrive per shard on average: add shards so that it keeps up`,
      );
    const seconds =
      (invocations * (duration.perInvocation + recordsPerInvocation * duration.perRecord)) / 1000;
    line({
      service: "Lambda",
      item: `${key}: ${fn.memoryMiB} MB arm64, ~${recordsPerInvocation.toFixed(recordsPerInvocation < 10 ? 1 : 0)} records per invocation`,
      fixed: 0,
      variable:
        seconds * (fn.memoryMiB / 1024) * PRICES.lambda.gbSecondArm +
        (invocations / 1e6) * PRICES.lambda.requestsPerMillion,
    });
  }

  // S3: the event archive, one object per archive invocation, steady state across its tiers. S3
  // lifecycle rules move no object under 128 KB (S3's default minimum since September 2024): small
  // objects stay in Standard for the whole retention and cost no transitions.
  const archiveObjects = invocationsOf.get("archive");
  if (archiveObjects !== undefined && archiveObjects > 0) {
    const gbPerDay = (eventsPerDay * WORKLOAD.archiveBytesPerEvent) / 1024 ** 3;
    const tiers = WORKLOAD.archiveTierDays;
    const days = tiers.standard + tiers.infrequentAccess + tiers.glacierInstant;
    const objectKB = ((eventsPerMonth / archiveObjects) * WORKLOAD.archiveBytesPerEvent) / 1024;
    const tiered = objectKB >= 128;
    const storage = tiered
      ? gbPerDay *
        (tiers.standard * PRICES.s3.standardGBMonth +
          tiers.infrequentAccess * PRICES.s3.infrequentAccessGBMonth +
          tiers.glacierInstant * PRICES.s3.glacierInstantGBMonth)
      : gbPerDay * days * PRICES.s3.standardGBMonth;
    line({
      service: "S3",
      item: `event archive: ${Math.round(archiveObjects).toLocaleString("en-US")} objects a month of ~${objectKB.toFixed(0)} KB, ${(gbPerDay * days).toFixed(1)} GB kept ${days} days${tiered ? " across Standard, Standard-IA and Glacier IR" : " in Standard (objects under 128 KB are not transitioned)"}`,
      fixed: 0,
      variable:
        storage + (archiveObjects / 1000) * (PRICES.s3.putsPer1k + (tiered ? PRICES.s3.transitionsPer1k : 0)),
    });
  }

  // DynamoDB.
  const tables = ofType("AWS::DynamoDB::Table");
  const onDemandTables = tables.every(([, r]) => r.Properties?.BillingMode === "PAY_PER_REQUEST");
  const pitr = tables.some(
    ([, r]) =>
      (r.Properties?.PointInTimeRecoverySpecification as { PointInTimeRecoveryEnabled?: boolean } | undefined)
        ?.PointInTimeRecoveryEnabled === true,
  );
  const alertDeliveries =
    ((WORKLOAD.smsPerMillionEvents + WORKLOAD.emailsPerMillionEvents) * eventsPerMonth) / 1e6;
  const writeUnits =
    eventsPerMonth * (WORKLOAD.stateWriteUnitsPerEvent + WORKLOAD.decisionWriteUnitsPerEvent) +
    alertDeliveries * WORKLOAD.alertWriteUnitsPerDelivery;
  const readUnits =
    eventsPerMonth * (WORKLOAD.stateReadUnitsPerEvent + WORKLOAD.decisionReadUnitsPerEvent) +
    alertDeliveries * WORKLOAD.alertReadUnitsPerDelivery;
  if (onDemandTables) {
    line({
      service: "DynamoDB",
      item: `${tables.length} tables on demand: ${(writeUnits / eventsPerMonth).toFixed(2)} write and ${(readUnits / eventsPerMonth).toFixed(2)} read units per event`,
      fixed: 0,
      variable:
        (writeUnits / 1e6) * PRICES.dynamodb.writeRequestUnitsPerMillion +
        (readUnits / 1e6) * PRICES.dynamodb.readRequestUnitsPerMillion,
    });
  } else {
    const secondsPerMonth = DAYS_PER_MONTH * 86_400;
    let fixed = 0;
    for (const [, r] of tables) {
      const throughput = r.Properties?.ProvisionedThroughput as
        | { ReadCapacityUnits?: number; WriteCapacityUnits?: number }
        | undefined;
      fixed +=
        HOURS_PER_MONTH *
        (Number(throughput?.WriteCapacityUnits ?? 0) * PRICES.dynamodb.wcuHour +
          Number(throughput?.ReadCapacityUnits ?? 0) * PRICES.dynamodb.rcuHour);
    }
    // Auto scaling tracks 70% utilization: the average need above the floors, divided by 0.7.
    const neededWcu = writeUnits / secondsPerMonth / 0.7;
    const neededRcu = readUnits / secondsPerMonth / 0.7;
    line({
      service: "DynamoDB",
      item: `${tables.length} tables provisioned with auto scaling: ~${Math.ceil(neededWcu)} WCU and ~${Math.ceil(neededRcu)} RCU on average`,
      fixed,
      variable: Math.max(
        0,
        HOURS_PER_MONTH * (neededWcu * PRICES.dynamodb.wcuHour + neededRcu * PRICES.dynamodb.rcuHour) - fixed,
      ),
    });
  }
  const score = [...functions.values()].find((f) => f.service === "vigil-score");
  const retentionDays = Number(score?.environment[ENV.decisionRetentionDays] ?? 90);
  const decisionGB = (eventsPerDay * retentionDays * WORKLOAD.decisionItemBytes) / 1024 ** 3;
  const stateGB = (eventsPerMonth * WORKLOAD.liveStateItemsPerEvent * WORKLOAD.stateItemBytes) / 1024 ** 3;
  line({
    service: "DynamoDB",
    item: `storage: ${retentionDays} days of decisions (${decisionGB.toFixed(1)} GB) and live state (${stateGB.toFixed(1)} GB)${pitr ? ", with point-in-time recovery" : ""}`,
    fixed: 0,
    variable:
      (decisionGB + stateGB) * (PRICES.dynamodb.storageGBMonth + (pitr ? PRICES.dynamodb.pitrGBMonth : 0)),
  });

  // CloudWatch.
  const auditDeployed = mappings.some((m) => m.service === "vigil-audit");
  const series = WORKLOAD.metricSeriesBeyondRules - (auditDeployed ? 0 : 4) + 2 * WORKLOAD.shippedRules;
  // A custom metric is billed for the hours it is published: idle, the functions publish none.
  line({
    service: "CloudWatch",
    item: `${series} custom metric series${eventsPerDay > 0 ? "" : " (none published while idle)"}`,
    fixed: eventsPerDay > 0 ? series * PRICES.cloudwatch.metricMonth : 0,
    variable: 0,
  });
  let alarmMetrics = 0;
  const alarms = ofType("AWS::CloudWatch::Alarm");
  for (const [, r] of alarms) {
    const metrics =
      (r.Properties?.Metrics as Array<{ MetricStat?: unknown; Expression?: string }> | undefined) ?? [];
    const stats = metrics.filter((m) => m.MetricStat).length;
    const insights = metrics.some((m) => m.Expression?.startsWith("SELECT"))
      ? WORKLOAD.insightsAlarmMetrics
      : 0;
    const count = Math.max(1, stats + insights);
    alarmMetrics += r.Properties?.ThresholdMetricId
      ? count * PRICES.cloudwatch.anomalyAlarmMetricsPerMetric
      : count;
  }
  line({
    service: "CloudWatch",
    item: `${alarms.length} alarms (${alarmMetrics} alarm metrics) and ${ofType("AWS::CloudWatch::Dashboard").length} dashboard`,
    fixed:
      alarmMetrics * PRICES.cloudwatch.alarmMetricMonth +
      ofType("AWS::CloudWatch::Dashboard").length * PRICES.cloudwatch.dashboardMonth,
    variable: 0,
  });
  const emfPerInvocation: Record<string, number> = {
    score: 1 + 2 * WORKLOAD.shippedRules,
    alert: 1,
    audit: 1,
    archive: 1,
  };
  let logBytes = 0;
  for (const [key, invocations] of invocationsOf)
    logBytes +=
      invocations *
      (WORKLOAD.platformLogBytesPerInvocation + (emfPerInvocation[key] ?? 1) * WORKLOAD.emfDocumentBytes);
  const logGB = logBytes / 1024 ** 3;
  const logRetentionDays = Math.max(
    1,
    ...ofType("AWS::Logs::LogGroup").map(([, r]) => Number(r.Properties?.RetentionInDays ?? 30)),
  );
  line({
    service: "CloudWatch",
    item: `logs: ${logGB.toFixed(2)} GB a month (Lambda lines and EMF metrics), kept ${logRetentionDays} days`,
    fixed: 0,
    variable:
      logGB * PRICES.cloudwatch.logsIngestGB +
      logGB * Math.min(1, logRetentionDays / DAYS_PER_MONTH) * PRICES.cloudwatch.logsStorageGBMonth,
  });

  // KMS, Secrets Manager, SNS.
  const keys = ofType("AWS::KMS::Key").length;
  line({
    service: "KMS",
    item: `${keys} customer-managed keys`,
    fixed: keys * PRICES.kms.keyMonth + (WORKLOAD.kmsRequestsPerMonth / 10_000) * PRICES.kms.requestsPer10k,
    variable: 0,
  });
  const secrets = ofType("AWS::SecretsManager::Secret").length;
  line({
    service: "Secrets Manager",
    item: `${secrets} secret`,
    fixed: secrets * PRICES.secretsManager.secretMonth,
    variable: 0,
  });
  const sms = (WORKLOAD.smsPerMillionEvents * eventsPerMonth) / 1e6;
  const emails = (WORKLOAD.emailsPerMillionEvents * eventsPerMonth) / 1e6;
  line({
    service: "SNS",
    item: `alerts: ${Math.round(sms)} SMS (US) and ${Math.round(emails)} emails a month`,
    fixed: 0,
    variable:
      sms * PRICES.sns.smsUS +
      (emails / 100_000) * PRICES.sns.emailPer100k +
      ((sms + emails) / 1e6) * PRICES.sns.publishesPerMillion,
  });

  // VPC and OpenSearch.
  const interfaceAzs = ofType("AWS::EC2::VPCEndpoint")
    .filter(([, r]) => r.Properties?.VpcEndpointType === "Interface")
    .reduce((n, [, r]) => n + ((r.Properties?.SubnetIds as unknown[] | undefined)?.length ?? 1), 0);
  if (interfaceAzs > 0 || ofType("AWS::EC2::FlowLog").length > 0)
    line({
      service: "VPC",
      item: `X-Ray interface endpoint in ${interfaceAzs} zones, flow logs`,
      fixed:
        interfaceAzs * HOURS_PER_MONTH * PRICES.vpc.interfaceEndpointAzHour +
        (ofType("AWS::EC2::FlowLog").length > 0
          ? WORKLOAD.flowLogGBPerMonth * PRICES.cloudwatch.vendedLogsIngestGB
          : 0),
      variable: 0,
    });
  for (const [, r] of ofType("AWS::OpenSearchService::Domain")) {
    const cluster = r.Properties?.ClusterConfig as
      | {
          InstanceType?: string;
          InstanceCount?: number;
          DedicatedMasterType?: string;
          DedicatedMasterCount?: number;
          DedicatedMasterEnabled?: boolean;
        }
      | undefined;
    const ebs = r.Properties?.EBSOptions as { VolumeSize?: number } | undefined;
    const dataType = cluster?.InstanceType ?? "unknown";
    const dataCount = Number(cluster?.InstanceCount ?? 1);
    const masterCount = cluster?.DedicatedMasterEnabled ? Number(cluster?.DedicatedMasterCount ?? 0) : 0;
    const masterType = cluster?.DedicatedMasterType ?? "unknown";
    const hourly = (type: string) => {
      const price = PRICES.opensearch.instanceHour[type];
      if (price === undefined)
        throw new Error(`no price for OpenSearch instance type ${type} in scripts/cost/pricing.ts`);
      return price;
    };
    // AWS's sizing rule: source bytes x (1 + replicas) x 1.45 (indexing overhead, OS reserve, free-space margin).
    const setup = ofType("Custom::VigilAuditIndex")[0]?.[1];
    const retention = Number(setup?.Properties?.RetentionDays ?? 90);
    const replicas = Number(setup?.Properties?.Replicas ?? 0);
    const neededGB =
      ((eventsPerDay * WORKLOAD.decisionMessageBytes) / 1024 ** 3) * retention * (1 + replicas) * 1.45;
    const haveGB = dataCount * Number(ebs?.VolumeSize ?? 10);
    if (neededGB > haveGB)
      warnings.push(
        `the audit trail needs ~${Math.ceil(neededGB)} GB for ${retention} days with ${replicas} replica(s); the domain has ${haveGB} GB ` +
          "(raise vigil:auditVolumeGiB or vigil:auditDataNodes, or shorten vigil:auditRetentionDays)",
      );
    line({
      service: "OpenSearch",
      item: `${dataCount} x ${dataType}${masterCount > 0 ? ` + ${masterCount} x ${masterType} masters` : ""}, ${dataCount} x ${ebs?.VolumeSize ?? 10} GB gp3`,
      fixed:
        HOURS_PER_MONTH *
          (dataCount * hourly(dataType) + (masterCount > 0 ? masterCount * hourly(masterType) : 0)) +
        dataCount * Number(ebs?.VolumeSize ?? 10) * PRICES.opensearch.gp3GBMonth,
      variable: 0,
      auditInstances: true,
    });
  }

  const fixed = lines.reduce((s, l) => s + l.fixed, 0);
  const variable = lines.reduce((s, l) => s + l.variable, 0);
  return {
    eventsPerDay,
    eventsPerMonth,
    lines,
    fixed,
    variable,
    variablePerMillion: eventsPerMonth > 0 ? variable / (eventsPerMonth / 1e6) : 0,
    fixedWithoutAuditInstances: lines.filter((l) => !l.auditInstances).reduce((s, l) => s + l.fixed, 0),
    warnings,
  };
}

/** The estimate as a table for a terminal. */
export function formatEstimate(estimate: CostEstimate, heading: string): string {
  const usd = (n: number) =>
    `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  const millions = estimate.eventsPerMonth / 1e6;
  const rows = estimate.lines.map((l) => [
    l.service,
    l.item,
    usd(l.fixed),
    usd(l.variable),
    millions > 0 ? usd(l.variable / millions) : "-",
  ]);
  const header = ["service", "item", "fixed/month", "variable/month", "per M events"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const fmt = (r: string[]) =>
    r.map((c, i) => (i >= 2 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join("  ");
  const perMillion = usd(estimate.variablePerMillion);
  return [
    heading,
    "",
    fmt(header),
    ...rows.map(fmt),
    "",
    `total ${usd(estimate.fixed + estimate.variable)} a month: fixed ${usd(estimate.fixed)} (${usd(estimate.fixedWithoutAuditInstances)} without the OpenSearch domain), variable ${usd(estimate.variable)}`,
    `variable cost per million events: ${perMillion} (OpenSearch instances are fixed and not in it)`,
    ...estimate.warnings.map((w) => `capacity: ${w}`),
  ].join("\n");
}
