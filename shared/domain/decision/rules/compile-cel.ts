import type { parse } from "@bufbuild/cel";
import { LIST_KINDS, type ListKind } from "#shared/domain/decision/lists/list-schema";
import type { CleanEvent } from "#shared/domain/event/index";

/**
 * CEL rule conditions compiled into JavaScript closures, for the subset of CEL rules commonly use,
 * without `eval`, `new Function` or `vm`: each AST node becomes a closure over its children.
 *
 * The closures are a fast path, never a second semantics. A closure either returns exactly what
 * Buf's CEL interpreter returns for the same inputs, or {@link DEFER}: "ask the interpreter". It
 * defers whenever CEL would fail or the answer depends on something the fast path does not model
 * (a missing key, a type mismatch, an error on one side of `&&`), so errors, their messages and
 * their positions always come from the interpreter (compile-rule.ts). A rule using anything outside
 * the subset is not compiled at all and always runs on the interpreter.
 * test/unit/decision/compile-cel.test.ts checks both against each other on random events and
 * random expressions.
 *
 * The subset: literals (bool, string, double, int within ±2^53); `event.<field>`, `event.geo.*`,
 * `event.attributes.*`, `features.<id>` (also `features["id"]`), `lists.<name>.<kind>`, `score`;
 * `has()` of those; `&&`, `||`, `!`, `?:`; `==`, `!=` on numbers, strings and booleans; `<`, `<=`,
 * `>`, `>=` on numbers; `+`, `-`, `*`, `/` on doubles; unary `-`; `in` a list of string literals;
 * `startsWith`, `endsWith`, `contains` on strings.
 */

type ParsedExpr = ReturnType<typeof parse>;
type Expr = ParsedExpr["expr"];

/** "Ask the interpreter": the fast path does not know this answer. */
export const DEFER: unique symbol = Symbol("defer to the CEL interpreter");

/** What a compiled condition reads, refreshed per event by the engine (one object, reused). */
export interface RuleView {
  event: CleanEvent;
  /** Epoch ms of `occurredAt`. */
  eventMs: number;
  /** `amountMinor` of orders and payments, else undefined. */
  amountMinor: number | undefined;
  /** The domain of the event's email, else undefined. */
  emailDomain: string | undefined;
  features: Readonly<Record<string, number | null | undefined>>;
  /** Membership per list slot (see {@link ListSlots}). */
  lists: readonly boolean[];
  score: number | null;
}

/** Slots of the (list, kind) pairs conditions read, assigned at compile time. */
export interface ListSlots {
  slot(name: string, kind: ListKind): number;
}

/** A compiled condition: true, false, or DEFER. */
export type CompiledCondition = (view: RuleView) => boolean | typeof DEFER;

type Value = unknown;
type Fn = (v: RuleView) => Value;
type StaticType = "double" | "int" | "string" | "bool" | "dyn";
interface Node {
  readonly fn: Fn;
  readonly type: StaticType;
}

/** Thrown inside the compiler for constructs outside the subset. */
class Unsupported extends Error {}

const unsupported = (what: string): never => {
  throw new Unsupported(what);
};

/** Event fields whose CEL value is a string, when present. */
const STRING_FIELDS = new Set([
  "eventId",
  "type",
  "occurredAt",
  "userId",
  "ip",
  "deviceId",
  "phone",
  "email",
  "amount",
  "currency",
  "cardFingerprint",
  "campaignId",
  "couponId",
]);

const isNumber = (x: unknown): x is number => typeof x === "number";
const finite = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

function identName(e: Expr | undefined): string | undefined {
  return e?.exprKind.case === "identExpr" ? e.exprKind.value.name : undefined;
}

/** `a.b` as ["a", "b"], `a.b.c` as ["a", "b", "c"]; undefined for anything else. */
function selectPath(e: Expr): string[] | undefined {
  if (e.exprKind.case === "identExpr") return [e.exprKind.value.name];
  if (e.exprKind.case === "selectExpr" && !e.exprKind.value.testOnly && e.exprKind.value.operand) {
    const inner = selectPath(e.exprKind.value.operand);
    return inner ? [...inner, e.exprKind.value.field] : undefined;
  }
  return undefined;
}

/** The field path a `has()` tests, or a `features["x"]` index. */
function featureIndex(e: Expr): string | undefined {
  if (e.exprKind.case !== "callExpr" || e.exprKind.value.function !== "_[_]") return undefined;
  const [container, key] = e.exprKind.value.args;
  if (identName(container) !== "features" || key?.exprKind.case !== "constExpr") return undefined;
  const k = key.exprKind.value.constantKind;
  return k.case === "stringValue" ? k.value : undefined;
}

function readFeature(id: string): Node {
  return {
    type: "double",
    fn: (v) => {
      const x = v.features[id];
      return finite(x) ? x : DEFER;
    },
  };
}

/** A field read: `event.x`, `event.geo.x`, `event.attributes.x`, `features.x`, `lists.n.k`, `score`. */
function compilePath(path: readonly string[], slots: ListSlots): Node {
  const [root, a, b, ...rest] = path;
  if (rest.length > 0) return unsupported("deep select");
  if (root === "score" && a === undefined)
    return { type: "double", fn: (v) => (v.score === null ? DEFER : v.score) };
  if (root === "features" && a !== undefined && b === undefined) return readFeature(a);
  if (root === "lists" && a !== undefined && b !== undefined) {
    if (!(LIST_KINDS as readonly string[]).includes(b)) return unsupported("list kind");
    const slot = slots.slot(a, b as ListKind);
    return { type: "bool", fn: (v) => v.lists[slot] === true };
  }
  if (root !== "event" || a === undefined) return unsupported(`name ${root}`);
  if (b === undefined) {
    if (STRING_FIELDS.has(a)) {
      const field = a as keyof CleanEvent;
      return {
        type: "string",
        fn: (v) => {
          const x = v.event[field];
          return typeof x === "string" ? x : DEFER;
        },
      };
    }
    if (a === "occurredAtMs") return { type: "double", fn: (v) => v.eventMs };
    if (a === "amountMinor") return { type: "double", fn: (v) => v.amountMinor ?? DEFER };
    if (a === "emailDomain") return { type: "string", fn: (v) => v.emailDomain ?? DEFER };
    if (a === "schemaVersion")
      return { type: "double", fn: (v) => (isNumber(v.event.schemaVersion) ? v.event.schemaVersion : DEFER) };
    return unsupported(`event.${a}`);
  }
  if (a === "geo" && (b === "country" || b === "city")) {
    return {
      type: "string",
      fn: (v) => {
        const x = v.event.geo?.[b];
        return typeof x === "string" ? x : DEFER;
      },
    };
  }
  if (a === "attributes") {
    return {
      type: "dyn",
      fn: (v) => {
        const attrs = v.event.attributes;
        if (attrs === undefined || !Object.hasOwn(attrs, b)) return DEFER;
        const x = attrs[b];
        return typeof x === "string" || typeof x === "boolean" || typeof x === "number" ? x : DEFER;
      },
    };
  }
  return unsupported(`event.${a}.${b}`);
}

/** `has(<path>)`. */
function compileHas(path: readonly string[]): Node {
  const [root, a, b, ...rest] = path;
  if (rest.length > 0 || a === undefined) return unsupported("has");
  if (root === "features" && b === undefined) return { type: "bool", fn: (v) => finite(v.features[a]) };
  if (root !== "event") return unsupported("has");
  if (b === undefined) {
    if (a === "geo" || a === "attributes" || a === "occurredAtMs") return { type: "bool", fn: () => true };
    if (a === "amountMinor") return { type: "bool", fn: (v) => v.amountMinor !== undefined };
    if (a === "emailDomain") return { type: "bool", fn: (v) => v.emailDomain !== undefined };
    if (STRING_FIELDS.has(a) || a === "schemaVersion") {
      const field = a as keyof CleanEvent;
      return { type: "bool", fn: (v) => v.event[field] !== undefined };
    }
    return unsupported(`has(event.${a})`);
  }
  if (a === "geo" && (b === "country" || b === "city"))
    return { type: "bool", fn: (v) => v.event.geo?.[b] !== undefined };
  if (a === "attributes") {
    return {
      type: "bool",
      fn: (v) => {
        const attrs = v.event.attributes;
        return attrs !== undefined && Object.hasOwn(attrs, b) && attrs[b] !== undefined;
      },
    };
  }
  return unsupported("has");
}

const numeric = (t: StaticType) => t === "double" || t === "int" || t === "dyn";

function compileNode(e: Expr, slots: ListSlots): Node {
  const kind = e.exprKind;
  switch (kind.case) {
    case "constExpr": {
      const c = kind.value.constantKind;
      if (c.case === "boolValue") {
        const value = c.value;
        return { type: "bool", fn: () => value };
      }
      if (c.case === "stringValue") {
        const value = c.value;
        return { type: "string", fn: () => value };
      }
      if (c.case === "doubleValue") {
        const value = c.value;
        return { type: "double", fn: () => value };
      }
      if (c.case === "int64Value") {
        const value = Number(c.value);
        if (!Number.isSafeInteger(value)) return unsupported("large int");
        return { type: "int", fn: () => value };
      }
      return unsupported(`constant ${c.case}`);
    }
    case "identExpr":
    case "selectExpr": {
      if (kind.case === "selectExpr" && kind.value.testOnly) {
        const operand = kind.value.operand;
        const path = operand ? selectPath(operand) : undefined;
        if (!path) return unsupported("has");
        return compileHas([...path, kind.value.field]);
      }
      const path = selectPath(e);
      return path ? compilePath(path, slots) : unsupported("select");
    }
    case "callExpr":
      return compileCall(e, kind.value, slots);
    default:
      return unsupported(kind.case ?? "expression");
  }
}

function compileCall(
  e: Expr,
  call: { function: string; target?: Expr; args: Expr[] },
  slots: ListSlots,
): Node {
  const { function: name, target, args } = call;
  const feature = featureIndex(e);
  if (feature !== undefined) return readFeature(feature);
  const arg = (i: number) => {
    const a = args[i];
    return a === undefined ? unsupported("argument") : compileNode(a, slots);
  };
  if (target !== undefined) {
    if ((name === "startsWith" || name === "endsWith" || name === "contains") && args.length === 1) {
      const t = compileNode(target, slots);
      const a = arg(0);
      if (!(t.type === "string" || t.type === "dyn") || !(a.type === "string" || a.type === "dyn"))
        return unsupported("string function types");
      const f = t.fn;
      const g = a.fn;
      const op =
        name === "startsWith"
          ? (x: string, y: string) => x.startsWith(y)
          : name === "endsWith"
            ? (x: string, y: string) => x.endsWith(y)
            : (x: string, y: string) => x.includes(y);
      return {
        type: "bool",
        fn: (v) => {
          const x = f(v);
          if (typeof x !== "string") return DEFER;
          const y = g(v);
          return typeof y === "string" ? op(x, y) : DEFER;
        },
      };
    }
    return unsupported(`method ${name}`);
  }
  switch (name) {
    case "_&&_":
    case "_||_": {
      const l = arg(0).fn;
      const r = arg(1).fn;
      // The absorbing value decides whatever the other side is; anything else non-boolean defers.
      const absorbing = name === "_||_";
      return {
        type: "bool",
        fn: (v) => {
          const a = l(v);
          if (a === absorbing) return absorbing;
          if (a !== !absorbing) return DEFER;
          const b = r(v);
          return typeof b === "boolean" ? b : DEFER;
        },
      };
    }
    case "!_": {
      const a = arg(0).fn;
      return {
        type: "bool",
        fn: (v) => {
          const x = a(v);
          return typeof x === "boolean" ? !x : DEFER;
        },
      };
    }
    case "_?_:_": {
      const c = arg(0).fn;
      const t = arg(1);
      const f = arg(2);
      const type: StaticType = t.type === f.type ? t.type : "dyn";
      const tf = t.fn;
      const ff = f.fn;
      return {
        type,
        fn: (v) => {
          const x = c(v);
          return x === true ? tf(v) : x === false ? ff(v) : DEFER;
        },
      };
    }
    case "_<_":
    case "_<=_":
    case "_>_":
    case "_>=_": {
      const l = arg(0);
      const r = arg(1);
      if (!numeric(l.type) || !numeric(r.type)) return unsupported("comparison of non-numbers");
      const lf = l.fn;
      const rf = r.fn;
      const cmp =
        name === "_<_"
          ? (x: number, y: number) => x < y
          : name === "_<=_"
            ? (x: number, y: number) => x <= y
            : name === "_>_"
              ? (x: number, y: number) => x > y
              : (x: number, y: number) => x >= y;
      return {
        type: "bool",
        fn: (v) => {
          const x = lf(v);
          if (!isNumber(x)) return DEFER;
          const y = rf(v);
          return isNumber(y) ? cmp(x, y) : DEFER;
        },
      };
    }
    case "_==_":
    case "_!=_": {
      const l = arg(0);
      const r = arg(1);
      const known = (t: StaticType) => (t === "int" ? "double" : t);
      if (l.type !== "dyn" && r.type !== "dyn" && known(l.type) !== known(r.type))
        return unsupported("equality across types");
      const lf = l.fn;
      const rf = r.fn;
      const negate = name === "_!=_";
      return {
        type: "bool",
        fn: (v) => {
          const x = lf(v);
          if (x === DEFER) return DEFER;
          const y = rf(v);
          if (y === DEFER || typeof x !== typeof y) return DEFER;
          return (x === y) !== negate;
        },
      };
    }
    case "_+_":
    case "_-_":
    case "_*_":
    case "_/_": {
      const l = arg(0);
      const r = arg(1);
      if (l.type !== "double" || r.type !== "double") return unsupported("arithmetic other than on doubles");
      const lf = l.fn;
      const rf = r.fn;
      const op =
        name === "_+_"
          ? (x: number, y: number) => x + y
          : name === "_-_"
            ? (x: number, y: number) => x - y
            : name === "_*_"
              ? (x: number, y: number) => x * y
              : (x: number, y: number) => x / y;
      return {
        type: "double",
        fn: (v) => {
          const x = lf(v);
          if (!isNumber(x)) return DEFER;
          const y = rf(v);
          return isNumber(y) ? op(x, y) : DEFER;
        },
      };
    }
    case "-_": {
      const operand = args[0];
      if (
        operand?.exprKind.case === "constExpr" &&
        operand.exprKind.value.constantKind.case === "int64Value"
      ) {
        const value = -Number(operand.exprKind.value.constantKind.value);
        if (!Number.isSafeInteger(value) || value === 0) return unsupported("negated int");
        return { type: "int", fn: () => value };
      }
      const a = arg(0);
      if (a.type !== "double") return unsupported("negation");
      const f = a.fn;
      return {
        type: "double",
        fn: (v) => {
          const x = f(v);
          return isNumber(x) ? -x : DEFER;
        },
      };
    }
    case "@in": {
      const l = arg(0);
      const list = args[1];
      if (list?.exprKind.case !== "listExpr") return unsupported("in of a non-literal");
      const items = list.exprKind.value.elements.map((el) => {
        if (el.exprKind.case === "constExpr" && el.exprKind.value.constantKind.case === "stringValue")
          return el.exprKind.value.constantKind.value;
        return unsupported("in of a list with other than strings");
      });
      if (list.exprKind.value.optionalIndices.length > 0) return unsupported("optional list elements");
      if (!(l.type === "string" || l.type === "dyn")) return unsupported("in of a non-string");
      const set = new Set(items);
      const f = l.fn;
      return {
        type: "bool",
        fn: (v) => {
          const x = f(v);
          return typeof x === "string" ? set.has(x) : DEFER;
        },
      };
    }
    default:
      return unsupported(`function ${name}`);
  }
}

/**
 * Compiles a parsed condition into a closure, or returns undefined when it uses anything outside
 * the subset (the rule then always runs on the interpreter).
 */
export function compileCondition(parsed: ParsedExpr, slots: ListSlots): CompiledCondition | undefined {
  try {
    const node = compileNode(parsed.expr, slots);
    const fn = node.fn;
    return (view) => {
      const x = fn(view);
      return typeof x === "boolean" ? x : DEFER;
    };
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}
