/**
 * Seeded randomness for the traffic simulator. Pure and deterministic: the same seed and label
 * give the same sequence on every platform (32-bit integer arithmetic only, no `Math.random`).
 */

/** 32-bit FNV-1a of a string: turns a stream label into seed material. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** splitmix32 step: spreads nearby seeds (1, 2, 3...) far apart before they seed a generator. */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * A small seeded generator (sfc32) with the draws the simulator needs. Independent streams are
 * derived by label ({@link Rng.derive}), so adding an attack to a mix does not change the
 * legitimate population or its traffic: each part draws from its own stream.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  private constructor(
    private readonly seed: number,
    private readonly label: string,
  ) {
    const s = fnv1a(label);
    this.a = splitmix32(seed >>> 0);
    this.b = splitmix32(s);
    this.c = splitmix32(this.a ^ this.b);
    this.d = 1;
    // Warm up so that the first outputs do not mirror the seed words.
    for (let i = 0; i < 12; i++) this.next();
  }

  /** The generator for `label` under `seed`: same pair, same sequence. */
  static derive(seed: number, label: string): Rng {
    return new Rng(seed, label);
  }

  /** A child stream: depends on this stream's seed and label, not on how much it has drawn. */
  child(label: string): Rng {
    return new Rng(this.seed, `${this.label}/${label}`);
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t / 4_294_967_296;
  }

  /** Uniform integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Uniform in [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element, uniformly. Throws on an empty list: a caller bug, not bad luck. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("Rng.pick: empty list");
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** One value, with probability proportional to its weight. */
  weighted<T>(entries: ReadonlyArray<readonly [T, number]>): T {
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [value, weight] of entries) {
      r -= weight;
      if (r < 0) return value;
    }
    const last = entries[entries.length - 1];
    if (!last) throw new Error("Rng.weighted: empty list");
    return last[0];
  }

  /** Exponentially distributed with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** Poisson-distributed count (Knuth's method; the simulator's means are small). */
  poisson(mean: number): number {
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  /** Log-normally distributed: exp of a normal with the given median's log and sigma. */
  logNormal(median: number, sigma: number): number {
    // Box-Muller; 1 - next() keeps the logarithm finite.
    const u = 1 - this.next();
    const v = this.next();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return median * Math.exp(sigma * z);
  }

  /** `length` lower-case hex digits. */
  hex(length: number): string {
    let out = "";
    while (out.length < length) out += this.int(0, 0xffff).toString(16).padStart(4, "0");
    return out.slice(0, length);
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }
}
