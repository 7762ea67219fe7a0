import { formatPath } from "#shared/domain/event/path";

/**
 * A single linear pass over JSON text, run before `JSON.parse`, that refuses what `JSON.parse`
 * would either choke on or accept silently:
 *
 * - nesting deeper than the limit (stops at the first bracket past it, so 10 000 levels cost
 *   nothing and no recursion ever happens);
 * - the keys `__proto__`, `constructor`, `prototype` anywhere, escaped spellings included;
 * - duplicate keys, which `JSON.parse` resolves to the last one while other parsers keep the
 *   first, letting a producer show a validator one value and the scorer another;
 * - numbers that `JSON.parse` cannot read exactly: overflow to Infinity, underflow to 0, digits
 *   lost to rounding (9007199254740993 becomes ...992), and integers beyond 2^53 - 1;
 * - any syntax error, so that a successful scan means `JSON.parse` will succeed.
 *
 * The first problem in document order wins.
 */
export function scanJson(text: string, maxDepth: number): ScanResult {
  return new Scanner(text, maxDepth).run();
}

/** What `scanJson` found. */
export type ScanResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: ScanReason; readonly message: string };

/** The reasons a scan can give. */
export type ScanReason =
  | "NOT_JSON"
  | "NESTING_TOO_DEEP"
  | "FORBIDDEN_KEY"
  | "DUPLICATE_KEY"
  | "UNSAFE_NUMBER";

/** Keys that reach `Object.prototype` when code copies parsed objects by key. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

interface Frame {
  readonly isObject: boolean;
  readonly keys: Set<string> | undefined;
  /** Current key (objects) or index (arrays), for paths in messages. */
  segment: string | number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const LOWER_U = 0x75;

type Failure = Extract<ScanResult, { ok: false }>;

class Scanner {
  private i = 0;
  private readonly stack: Frame[] = [];

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  run(): ScanResult {
    const { text } = this;
    for (;;) {
      // Expecting a value at this point.
      this.skipWhitespace();
      if (this.i >= text.length) return this.notJson("unexpected end of input");
      const c = text.charCodeAt(this.i);
      if (c === LBRACE || c === LBRACKET) {
        if (this.stack.length >= this.maxDepth) {
          return fail("NESTING_TOO_DEEP", `objects and arrays nested deeper than ${this.maxDepth} levels`);
        }
        this.i++;
        const isObject = c === LBRACE;
        this.stack.push({ isObject, keys: isObject ? new Set() : undefined, segment: 0 });
        this.skipWhitespace();
        if (text.charCodeAt(this.i) === (isObject ? RBRACE : RBRACKET)) {
          this.i++;
          this.stack.pop();
        } else {
          if (isObject) {
            const failure = this.readKey();
            if (failure) return failure;
          }
          continue;
        }
      } else if (c === QUOTE) {
        const end = this.scanString(this.i);
        if (end < 0) return this.notJson("malformed string");
        this.i = end;
      } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
        const failure = this.readNumber();
        if (failure) return failure;
      } else if (text.startsWith("true", this.i)) {
        this.i += 4;
      } else if (text.startsWith("false", this.i)) {
        this.i += 5;
      } else if (text.startsWith("null", this.i)) {
        this.i += 4;
      } else {
        return this.notJson("unexpected character");
      }
      // A value is complete: close containers or move to the next member.
      for (;;) {
        this.skipWhitespace();
        const top = this.stack.at(-1);
        if (top === undefined) {
          return this.i === text.length ? { ok: true } : this.notJson("unexpected data after the JSON value");
        }
        if (this.i >= text.length) return this.notJson("unexpected end of input");
        const d = text.charCodeAt(this.i);
        if (d === COMMA) {
          this.i++;
          if (top.isObject) {
            const failure = this.readKey();
            if (failure) return failure;
          } else {
            top.segment = typeof top.segment === "number" ? top.segment + 1 : 0;
          }
          break;
        }
        if (d === (top.isObject ? RBRACE : RBRACKET)) {
          this.i++;
          this.stack.pop();
          continue;
        }
        return this.notJson(top.isObject ? "expected ',' or '}'" : "expected ',' or ']'");
      }
    }
  }

  /** Reads `"key" :` inside an object and records the key on the current frame. */
  private readKey(): Failure | undefined {
    const { text } = this;
    this.skipWhitespace();
    if (text.charCodeAt(this.i) !== QUOTE) return this.notJson("expected a string key");
    const start = this.i;
    const end = this.scanString(start);
    if (end < 0) return this.notJson("malformed string");
    this.i = end;
    const raw = text.slice(start + 1, end - 1);
    // Escapes can spell a forbidden key ("\u005f_proto__"), so decode before comparing.
    const key = raw.includes("\\") ? decodeStringToken(text.slice(start, end)) : raw;
    const frame = this.stack.at(-1);
    if (key === undefined || frame === undefined || frame.keys === undefined) {
      return this.notJson("malformed key");
    }
    if (FORBIDDEN_KEYS.has(key)) {
      // The path of the object that holds the key: the key itself is one of three fixed words.
      return fail(
        "FORBIDDEN_KEY",
        `${formatPath(this.stack.slice(0, -1).map((f) => f.segment))}: forbidden key "${key}"`,
      );
    }
    if (frame.keys.has(key)) {
      frame.segment = key;
      return fail("DUPLICATE_KEY", `${this.where()}: key appears more than once`);
    }
    frame.keys.add(key);
    frame.segment = key;
    this.skipWhitespace();
    if (text.charCodeAt(this.i) !== COLON) return this.notJson("expected ':'");
    this.i++;
    return undefined;
  }

  /** Returns the index after the closing quote, or -1 if the string is malformed. */
  private scanString(start: number): number {
    const { text } = this;
    let j = start + 1;
    while (j < text.length) {
      const c = text.charCodeAt(j);
      if (c === QUOTE) return j + 1;
      if (c < 0x20) return -1;
      if (c === BACKSLASH) {
        const e = text.charCodeAt(j + 1);
        if (e === LOWER_U) {
          for (let k = j + 2; k < j + 6; k++) {
            if (!isHexDigit(text.charCodeAt(k))) return -1;
          }
          j += 6;
          continue;
        }
        if (!SIMPLE_ESCAPES.has(e)) return -1;
        j += 2;
        continue;
      }
      j++;
    }
    return -1;
  }

  /** Reads a number per the JSON grammar and checks that JSON.parse reads it exactly. */
  private readNumber(): Failure | undefined {
    const { text } = this;
    const start = this.i;
    let j = start;
    if (text.charCodeAt(j) === MINUS) j++;
    const first = text.charCodeAt(j);
    if (first === ZERO) {
      j++;
    } else if (first > ZERO && first <= NINE) {
      while (isDigit(text.charCodeAt(j))) j++;
    } else {
      return this.notJson("malformed number");
    }
    if (text.charCodeAt(j) === DOT) {
      j++;
      if (!isDigit(text.charCodeAt(j))) return this.notJson("malformed number");
      while (isDigit(text.charCodeAt(j))) j++;
    }
    const e = text.charCodeAt(j);
    if (e === LOWER_E || e === UPPER_E) {
      j++;
      const sign = text.charCodeAt(j);
      if (sign === PLUS || sign === MINUS) j++;
      if (!isDigit(text.charCodeAt(j))) return this.notJson("malformed number");
      while (isDigit(text.charCodeAt(j))) j++;
    }
    this.i = j;
    const problem = numberProblem(text.slice(start, j));
    return problem === undefined ? undefined : fail("UNSAFE_NUMBER", `${this.where()}: ${problem}`);
  }

  private skipWhitespace(): void {
    const { text } = this;
    for (;;) {
      const c = text.charCodeAt(this.i);
      // JSON whitespace is exactly space, tab, line feed and carriage return.
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.i++;
      else return;
    }
  }

  private where(): string {
    return formatPath(this.stack.map((frame) => frame.segment));
  }

  private notJson(what: string): Failure {
    return fail("NOT_JSON", `${what} at character ${this.i}`);
  }
}

const SIMPLE_ESCAPES: ReadonlySet<number> = new Set(
  ['"', "\\", "/", "b", "f", "n", "r", "t"].map((ch) => ch.charCodeAt(0)),
);

function fail(reason: ScanReason, message: string): Failure {
  return { ok: false, reason, message };
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function isHexDigit(c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function decodeStringToken(token: string): string | undefined {
  try {
    const value: unknown = JSON.parse(token);
    return typeof value === "string" ? value : undefined;
  } catch {
    // The scanner validated the token, so this is unreachable; report it as malformed anyway.
    return undefined;
  }
}

/**
 * Why a JSON number literal cannot be used as written, or undefined if it can. A literal is
 * exact when the double JSON.parse produces prints back as the same decimal value.
 */
export function numberProblem(literal: string): string | undefined {
  const value = Number(literal);
  if (!Number.isFinite(value)) return "number is too large to represent";
  const written = decimalParts(literal);
  const read = decimalParts(String(value));
  if (
    written.digits !== read.digits ||
    written.exponent !== read.exponent ||
    written.negative !== read.negative
  ) {
    return "number cannot be represented exactly (send money and long identifiers as strings)";
  }
  if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
    return "integer is beyond ±(2^53 - 1)";
  }
  return undefined;
}

interface DecimalParts {
  readonly negative: boolean;
  /** Significant digits without leading or trailing zeros; empty for zero. */
  readonly digits: string;
  readonly exponent: number;
}

/** Splits a JSON number literal or a `String(number)` output into sign, digits and exponent. */
function decimalParts(text: string): DecimalParts {
  let body = text;
  let negative = false;
  if (body.startsWith("-")) {
    negative = true;
    body = body.slice(1);
  }
  let exponent = 0;
  const e = body.search(/[eE]/);
  if (e >= 0) {
    exponent = Number.parseInt(body.slice(e + 1), 10);
    body = body.slice(0, e);
  }
  const dot = body.indexOf(".");
  if (dot >= 0) {
    exponent -= body.length - dot - 1;
    body = body.slice(0, dot) + body.slice(dot + 1);
  }
  let from = 0;
  while (from < body.length && body.charCodeAt(from) === ZERO) from++;
  let to = body.length;
  while (to > from && body.charCodeAt(to - 1) === ZERO) {
    to--;
    exponent++;
  }
  const digits = body.slice(from, to);
  // Zero has one representation whatever its sign or exponent (-0 reads as 0 once stored).
  return digits === "" ? { negative: false, digits: "", exponent: 0 } : { negative, digits, exponent };
}
