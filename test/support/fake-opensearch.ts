import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local HTTP server speaking the parts of the OpenSearch REST API Vigil uses: `_bulk` (NDJSON,
 * `create`/`index` actions, per-item results with `errors: true`, 409 on an existing `_id`),
 * composable index templates whose mappings it enforces (unknown field under `dynamic: strict`,
 * wrong type: 400 `strict_dynamic_mapping_exception` / `mapper_parsing_exception`, as OpenSearch
 * answers), ISM policies with sequence-number locking, security roles and role mappings, the
 * security plugin's audit log configuration, and
 * `_search` answered by a test-supplied function. Tests script throttling (whole-request 429) and
 * per-item failures.
 */

type Json = Record<string, unknown>;

/** A per-item failure a test makes the server answer. */
export interface ItemFailure {
  readonly status: number;
  readonly type: string;
  readonly reason: string;
}

export interface FakeOpenSearch {
  readonly endpoint: string;
  /** Documents by index, then `_id`. */
  readonly indices: Map<string, Map<string, Json>>;
  readonly templates: Map<string, Json>;
  readonly policies: Map<string, { seqNo: number; body: Json }>;
  readonly roles: Map<string, Json>;
  readonly roleMappings: Map<string, Json>;
  /** The security plugin's audit log configuration, once PUT. */
  auditConfig: Json | undefined;
  /** Every request, `METHOD path`. */
  readonly requests: string[];
  /** Requests that carried an AWS SigV4 Authorization header. */
  signedRequests: number;
  /** The next `n` `_bulk` requests are answered 429 as a whole. */
  throttleNext(n: number): void;
  /** Decides per bulk item (by `_id`) whether it fails. */
  failItem: ((id: string) => ItemFailure | undefined) | undefined;
  /**
   * Answers `_search` requests (index pattern, request body). Default: the server evaluates the
   * query and aggregations itself over its documents (the subset in {@link evaluateSearch}).
   */
  search: ((index: string, body: Json) => Json) | undefined;
  /** All documents of the indices matching a pattern like `prefix-*`. */
  documents(pattern: string): Json[];
  close(): Promise<void>;
}

const matchesPattern = (pattern: string, name: string) =>
  new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\-]/g, "\\$&"))
      .join(".*")}$`,
  ).test(name);

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=UTF-8" });
  res.end(JSON.stringify(body));
}

const error = (status: number, type: string, reason: string) => ({
  error: { root_cause: [{ type, reason }], type, reason },
  status,
});

type Mapping = { type?: string; properties?: Record<string, Mapping>; dynamic?: boolean | string };

/** Checks a document against a mapping as OpenSearch would; the first problem, or undefined. */
function checkDocument(
  mapping: Mapping,
  doc: unknown,
  path: string,
  dynamicTemplates: Json[],
): ItemFailure | undefined {
  if (doc === null || doc === undefined) return undefined;
  const type = mapping.type ?? (mapping.properties ? "object" : undefined);
  if (type === "object" || type === "nested") {
    const items = Array.isArray(doc) ? doc : [doc];
    for (const item of items) {
      if (typeof item !== "object" || item === null || Array.isArray(item))
        return mapperError(path, type, item);
      for (const [key, value] of Object.entries(item)) {
        const child = mapping.properties?.[key];
        const fieldPath = path ? `${path}.${key}` : key;
        if (!child) {
          const template = dynamicTemplates.find((t) => {
            const spec = Object.values(t)[0] as { path_match?: string };
            return spec.path_match !== undefined && matchesPattern(spec.path_match, fieldPath);
          });
          if (template) {
            const problem = checkDocument(
              (Object.values(template)[0] as { mapping: Mapping }).mapping,
              value,
              fieldPath,
              dynamicTemplates,
            );
            if (problem) return problem;
            continue;
          }
          if (mapping.dynamic === "strict")
            return {
              status: 400,
              type: "strict_dynamic_mapping_exception",
              reason: `mapping set to strict, dynamic introduction of [${key}] within [${path || "_doc"}] is not allowed`,
            };
          continue;
        }
        const problem = checkDocument(child, value, fieldPath, dynamicTemplates);
        if (problem) return problem;
      }
    }
    return undefined;
  }
  const values = Array.isArray(doc) ? doc : [doc];
  for (const v of values) {
    const ok =
      type === "keyword"
        ? ["string", "number", "boolean"].includes(typeof v)
        : type === "double"
          ? typeof v === "number" || (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v)))
          : type === "integer" || type === "long"
            ? Number.isInteger(typeof v === "string" ? Number(v) : v)
            : type === "boolean"
              ? typeof v === "boolean"
              : type === "date"
                ? typeof v === "string" && !Number.isNaN(Date.parse(v))
                : true;
    if (!ok) return mapperError(path, type ?? "unknown", v);
  }
  return undefined;
}

function mapperError(path: string, type: string, value: unknown): ItemFailure {
  return {
    status: 400,
    type: "mapper_parsing_exception",
    reason: `failed to parse field [${path}] of type [${type}]. Preview of field's value: '${String(value).slice(0, 20)}'`,
  };
}

/** Starts the server on a free loopback port. */
export async function startFakeOpenSearch(): Promise<FakeOpenSearch> {
  let throttle = 0;
  let seqNo = 0;
  const fake: FakeOpenSearch = {
    endpoint: "",
    indices: new Map(),
    templates: new Map(),
    policies: new Map(),
    roles: new Map(),
    roleMappings: new Map(),
    auditConfig: undefined,
    requests: [],
    signedRequests: 0,
    throttleNext(n) {
      throttle = n;
    },
    failItem: undefined,
    search: undefined,
    documents(pattern) {
      return [...fake.indices.entries()]
        .filter(([name]) => matchesPattern(pattern, name))
        .flatMap(([, docs]) => [...docs.values()]);
    },
    close: async () => {},
  };

  const templateFor = (index: string) =>
    [...fake.templates.values()]
      .filter((t) => (t.index_patterns as string[]).some((p) => matchesPattern(p, index)))
      .sort((a, b) => Number(b.priority ?? 0) - Number(a.priority ?? 0))[0];

  const bulk = (text: string) => {
    const lines = text.split("\n").filter((l) => l.trim() !== "");
    const items: Json[] = [];
    let errors = false;
    for (let i = 0; i < lines.length; i += 2) {
      const action = JSON.parse(lines[i] as string) as Record<string, { _index: string; _id: string }>;
      const [op, meta] = Object.entries(action)[0] as [string, { _index: string; _id: string }];
      const doc = JSON.parse(lines[i + 1] ?? "null") as Json;
      const result = (status: number, extra: Json = {}) => {
        if (status >= 300) errors = true;
        items.push({ [op]: { _index: meta._index, _id: meta._id, status, ...extra } });
      };
      const scripted = fake.failItem?.(meta._id);
      if (scripted) {
        result(scripted.status, { error: { type: scripted.type, reason: scripted.reason } });
        continue;
      }
      const template = templateFor(meta._index)?.template as { mappings?: Json } | undefined;
      const mappings = template?.mappings as (Mapping & { dynamic_templates?: Json[] }) | undefined;
      if (mappings) {
        const problem = checkDocument(
          { ...mappings, type: "object" },
          doc,
          "",
          mappings.dynamic_templates ?? [],
        );
        if (problem) {
          result(problem.status, { error: { type: problem.type, reason: problem.reason } });
          continue;
        }
      }
      const index = fake.indices.get(meta._index) ?? new Map<string, Json>();
      fake.indices.set(meta._index, index);
      if (op === "create" && index.has(meta._id)) {
        result(409, {
          error: {
            type: "version_conflict_engine_exception",
            reason: `[${meta._id}]: version conflict, document already exists (current version [1])`,
          },
        });
        continue;
      }
      index.set(meta._id, doc);
      result(201, { result: "created", _version: 1 });
    }
    return { took: 1, errors, items };
  };

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    const method = req.method ?? "GET";
    fake.requests.push(`${method} ${path}`);
    if (String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 ")) fake.signedRequests++;
    const text = await readBody(req);
    const json = () => (text ? (JSON.parse(text) as Json) : {});

    if (method === "POST" && /^\/(?:[^/]+\/)?_bulk$/.test(path)) {
      if (throttle > 0) {
        throttle--;
        send(res, 429, error(429, "es_rejected_execution_exception", "rejected execution of bulk request"));
        return;
      }
      send(res, 200, bulk(text));
      return;
    }
    const template = /^\/_index_template\/([^/]+)$/.exec(path);
    if (template && method === "PUT") {
      fake.templates.set(template[1] as string, json());
      send(res, 200, { acknowledged: true });
      return;
    }
    const policy = /^\/_plugins\/_ism\/policies\/([^/]+)$/.exec(path);
    if (policy) {
      const id = policy[1] as string;
      const existing = fake.policies.get(id);
      if (method === "GET") {
        if (!existing) send(res, 404, error(404, "status_exception", "Policy not found"));
        else
          send(res, 200, {
            _id: id,
            _seq_no: existing.seqNo,
            _primary_term: 1,
            policy: existing.body.policy,
          });
        return;
      }
      if (method === "PUT") {
        const ifSeqNo = url.searchParams.get("if_seq_no");
        if (existing && ifSeqNo === null) {
          send(res, 409, error(409, "version_conflict_engine_exception", "policy exists; use if_seq_no"));
          return;
        }
        if (existing && Number(ifSeqNo) !== existing.seqNo) {
          send(res, 409, error(409, "version_conflict_engine_exception", "sequence number conflict"));
          return;
        }
        fake.policies.set(id, { seqNo: ++seqNo, body: json() });
        send(res, existing ? 200 : 201, { _id: id, _seq_no: seqNo, _primary_term: 1 });
        return;
      }
    }
    const security = /^\/_plugins\/_security\/api\/(roles|rolesmapping)\/([^/]+)$/.exec(path);
    if (security && method === "PUT") {
      (security[1] === "roles" ? fake.roles : fake.roleMappings).set(security[2] as string, json());
      send(res, 200, { status: "OK" });
      return;
    }
    if (path === "/_plugins/_security/api/audit/config" && method === "PUT") {
      fake.auditConfig = json();
      send(res, 200, { status: "OK", message: "'config' updated." });
      return;
    }
    const search = /^\/([^/]+)\/_search$/.exec(path);
    if (search && (method === "POST" || method === "GET")) {
      const pattern = decodeURIComponent(search[1] as string);
      send(
        res,
        200,
        fake.search ? fake.search(pattern, json()) : evaluateSearch(fake.documents(pattern), json()),
      );
      return;
    }
    send(res, 400, error(400, "invalid_request", `no handler for ${method} ${path}`));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** A dotted field's values (arrays flattened, absent and null dropped). */
function valuesOf(doc: Json, field: string): unknown[] {
  let current: unknown[] = [doc];
  for (const part of field.split(".")) {
    current = current.flatMap((v) => {
      const next = v && typeof v === "object" && !Array.isArray(v) ? (v as Json)[part] : undefined;
      return Array.isArray(next) ? next : next === undefined || next === null ? [] : [next];
    });
  }
  return current;
}

function matchesFilter(doc: Json, filter: Json): boolean {
  if (filter.term) {
    const [field, value] = Object.entries(filter.term as Json)[0] as [string, unknown];
    return valuesOf(doc, field).includes(value);
  }
  if (filter.range) {
    const [field, bounds] = Object.entries(filter.range as Json)[0] as [
      string,
      Record<string, string | number>,
    ];
    return valuesOf(doc, field).some((v) => {
      const x = typeof v === "string" ? Date.parse(v) : Number(v);
      const num = (b: string | number | undefined) => (typeof b === "string" ? Date.parse(b) : Number(b));
      return (
        (bounds.gte === undefined || x >= num(bounds.gte)) &&
        (bounds.gt === undefined || x > num(bounds.gt)) &&
        (bounds.lt === undefined || x < num(bounds.lt)) &&
        (bounds.lte === undefined || x <= num(bounds.lte))
      );
    });
  }
  if (filter.bool) {
    const bool = filter.bool as { must?: Json[]; filter?: Json[]; must_not?: Json[] };
    return (
      [...(bool.must ?? []), ...(bool.filter ?? [])].every((f) => matchesFilter(doc, f)) &&
      !(bool.must_not ?? []).some((f) => matchesFilter(doc, f))
    );
  }
  if (filter.match_all) return true;
  throw new Error(`fake OpenSearch: unsupported query ${JSON.stringify(filter)}`);
}

function aggregate(docs: Json[], aggs: Record<string, Json>): Json {
  const out: Json = {};
  for (const [name, spec] of Object.entries(aggs)) {
    const sub = spec.aggs as Record<string, Json> | undefined;
    const withSub = (bucketDocs: Json[], bucket: Json) => ({
      ...bucket,
      doc_count: bucketDocs.length,
      ...(sub ? aggregate(bucketDocs, sub) : {}),
    });
    if (spec.terms) {
      const { field, size } = spec.terms as { field: string; size: number };
      const groups = new Map<string, Json[]>();
      for (const doc of docs)
        for (const v of new Set(valuesOf(doc, field).map(String)))
          groups.set(v, [...(groups.get(v) ?? []), doc]);
      const buckets = [...groups.entries()]
        .sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .slice(0, size)
        .map(([key, group]) => withSub(group, { key }));
      out[name] = { buckets };
    } else if (spec.date_histogram || spec.histogram) {
      const h = (spec.date_histogram ?? spec.histogram) as {
        field: string;
        fixed_interval?: string;
        interval?: number;
        extended_bounds?: { min: number; max: number };
      };
      const interval = h.fixed_interval
        ? Number(h.fixed_interval.replace(/s$/, "")) * 1000
        : (h.interval as number);
      const keyOf = (v: unknown) => {
        const x = typeof v === "string" ? Date.parse(v) : Number(v);
        return Math.floor(x / interval) * interval;
      };
      const groups = new Map<number, Json[]>();
      for (const doc of docs)
        for (const v of valuesOf(doc, h.field)) groups.set(keyOf(v), [...(groups.get(keyOf(v)) ?? []), doc]);
      const keys = [...groups.keys()];
      if (h.extended_bounds) keys.push(keyOf(h.extended_bounds.min), keyOf(h.extended_bounds.max));
      const buckets: Json[] = [];
      if (keys.length > 0) {
        const min = Math.min(...keys);
        const max = Math.max(...keys);
        for (let i = 0; min + i * interval <= max + interval / 2; i++) {
          const key = keyOf(min + i * interval);
          buckets.push(withSub(groups.get(key) ?? [], { key }));
        }
      }
      out[name] = { buckets };
    } else if (spec.filter) {
      const matched = docs.filter((d) => matchesFilter(d, spec.filter as Json));
      out[name] = withSub(matched, {});
    } else if (spec.missing) {
      const field = (spec.missing as { field: string }).field;
      out[name] = withSub(
        docs.filter((d) => valuesOf(d, field).length === 0),
        {},
      );
    } else if (spec.max) {
      const values = docs.flatMap((d) => valuesOf(d, (spec.max as { field: string }).field).map(Number));
      out[name] = { value: values.length > 0 ? Math.max(...values) : null };
    } else throw new Error(`fake OpenSearch: unsupported aggregation ${JSON.stringify(spec)}`);
  }
  return out;
}

/**
 * The hits of a search: `size` documents (default 10, as OpenSearch) in `sort` order (one field,
 * asc or desc; default: index order), each as `{ _source }`.
 */
function topHits(docs: Json[], body: Json): Json[] {
  const size = typeof body.size === "number" ? body.size : 10;
  const [sort] = (body.sort as Record<string, { order: "asc" | "desc" }>[] | undefined) ?? [];
  const ordered = [...docs];
  if (sort) {
    const [field, { order }] = Object.entries(sort)[0] as [string, { order: "asc" | "desc" }];
    const key = (d: Json) => String(valuesOf(d, field)[0] ?? "");
    ordered.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (order === "desc" ? -1 : 1));
  }
  return ordered.slice(0, size).map((d) => ({ _source: d }));
}

/**
 * `_search` over documents: the query (term, range, bool, match_all) and the aggregations Vigil's
 * report uses (terms, date_histogram, histogram, filter, missing, max; sub-aggregations), hits by
 * `size` and one `sort` field (the review queue's history), with
 * OpenSearch's bucket keys and ordering (count desc, key asc; floor(value / interval) * interval).
 */
export function evaluateSearch(documents: Json[], body: Json): Json {
  const docs = body.query ? documents.filter((d) => matchesFilter(d, body.query as Json)) : documents;
  return {
    took: 1,
    timed_out: false,
    hits: { total: { value: docs.length, relation: "eq" }, hits: topHits(docs, body) },
    aggregations: body.aggs ? aggregate(docs, body.aggs as Record<string, Json>) : {},
  };
}
