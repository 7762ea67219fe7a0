import type { StreamConsumerKey } from "#infra/stream-consumers";
import type { StreamKey } from "#shared/resources";

/** Names of the deployment profiles (`-c vigil:profile=dev|prod`). */
export const PROFILE_NAMES = ["dev", "prod"] as const;

/** A deployment profile name. */
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** Where the audit trail goes: an OpenSearch domain, or nowhere (decisions stay in the table and stream). */
export type AuditSink = "opensearch" | "none";

/** Kinesis capacity mode. */
export type StreamMode = "onDemand" | "provisioned";

/** DynamoDB billing mode. */
export type TableBilling = "onDemand" | "provisioned";

/**
 * Everything a profile decides. Each value can be overridden by a context key (`infra/settings.ts`);
 * values a profile leaves out come from the definitions in `shared/resources.ts`, which stay the
 * defaults the local stack uses.
 */
export interface Profile {
  /** One line for `docs/infra.md` and `npm run cost`. */
  readonly description: string;
  /**
   * Whether stateful resources (keys, streams, tables, queues, secret, domain) survive `cdk destroy`
   * and a replacement (`RETAIN`), or are deleted with the stack (`DESTROY`).
   */
  readonly retainData: boolean;
  /** DynamoDB deletion protection on every table. */
  readonly tableDeletionProtection: boolean;
  /** DynamoDB point-in-time recovery on every table. */
  readonly pointInTimeRecovery: boolean;
  /** Days CloudWatch Logs keeps function, domain and flow logs. */
  readonly logRetentionDays: number;
  readonly streams: {
    readonly mode: StreamMode;
    /** Provisioned shards per stream (ignored on demand); a missing stream keeps its definition's count. */
    readonly shards: Readonly<Partial<Record<StreamKey, number>>>;
    /**
     * Hours both streams keep records: the longest outage a consumer can catch up from. Every event
     * source mapping's maximum record age is capped at it.
     */
    readonly retentionHours: number;
  };
  readonly tables: {
    readonly billing: TableBilling;
    /** Provisioned read and write units per table (the floor of auto scaling), when provisioned. */
    readonly readUnits: number;
    readonly writeUnits: number;
  };
  /** Memory and batch size per stream consumer; missing values come from `FUNCTIONS`. */
  readonly functions: Readonly<
    Partial<Record<StreamConsumerKey, { readonly memoryMiB?: number; readonly batchSize?: number }>>
  >;
  readonly audit: {
    readonly sink: AuditSink;
    readonly instanceType: string;
    readonly dataNodes: number;
    /** Dedicated master nodes: 0, 3 or 5. */
    readonly masterNodes: number;
    readonly masterInstanceType: string;
    /** gp3 volume per data node, GiB. */
    readonly volumeGiB: number;
    /** Whether the domain (and the functions that call it) live in a VPC of the stack. */
    readonly vpc: boolean;
    /** Availability zones the data nodes spread over (1, 2 or 3). */
    readonly availabilityZones: 1 | 2 | 3;
  };
}

/**
 * The two profiles. `dev`: cheapest to leave running and removed completely by `cdk destroy`.
 * `prod`: retained, protected data; streams keep seven days (the longest consumer outage to catch up
 * from); the audit domain in a VPC over three AZs with dedicated masters. The capacity figures are
 * starting points for about 1 M events a day (docs/infra.md has the arithmetic); every one of them
 * can be overridden by context.
 */
export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  dev: {
    description:
      "development: on-demand streams, smallest sizes, no audit domain by default, nothing retained",
    retainData: false,
    tableDeletionProtection: false,
    // Costs cents on a development table, and keeps the template free of an exception.
    pointInTimeRecovery: true,
    logRetentionDays: 7,
    streams: { mode: "onDemand", shards: {}, retentionHours: 24 },
    tables: { billing: "onDemand", readUnits: 5, writeUnits: 5 },
    functions: { score: { memoryMiB: 512 }, alert: { memoryMiB: 256 }, audit: { memoryMiB: 256 } },
    audit: {
      sink: "none",
      instanceType: "t3.small.search",
      dataNodes: 1,
      masterNodes: 0,
      masterInstanceType: "m7g.large.search",
      volumeGiB: 10,
      vpc: false,
      availabilityZones: 1,
    },
  },
  prod: {
    description:
      "production: provisioned streams with 7-day retention, retained and protected data, audit domain in a VPC over 3 AZs with dedicated masters",
    retainData: true,
    tableDeletionProtection: true,
    pointInTimeRecovery: true,
    logRetentionDays: 90,
    // A block decision message is about 2.3 KB, so the decisions stream needs about twice the
    // shards of the events stream for the same events per second (1 MB/s per shard).
    streams: { mode: "provisioned", shards: { events: 2, decisions: 4 }, retentionHours: 168 },
    tables: { billing: "onDemand", readUnits: 25, writeUnits: 50 },
    functions: {},
    audit: {
      sink: "opensearch",
      instanceType: "r7g.large.search",
      dataNodes: 3,
      masterNodes: 3,
      masterInstanceType: "m7g.large.search",
      volumeGiB: 300,
      vpc: true,
      availabilityZones: 3,
    },
  },
};
