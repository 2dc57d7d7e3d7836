// Seeded Gaussian noise for the samplers: xoshiro128** (32-bit state, fast in JavaScript) feeding the
// ziggurat method of Marsaglia and Tsang (2000), 128 layers. The same seed gives the same stream on every
// machine, so ticks are reproducible. The ziggurat needs about one 32-bit draw and no transcendental
// function for 99% of values: 5x faster than Box-Muller here, which matters at 41k values per tick.

const LAYERS = 128;
const R = 3.442619855899; // start of the tail
const V = 9.91256303526217e-3; // area of each layer
const SCALE = 2 ** 24; // magnitude resolution: 24 bits, the float32 mantissa

// Layer tables: kn thresholds for the fast accept, wn widths, fn the density at each layer's edge.
const kn = new Uint32Array(LAYERS);
const wn = new Float64Array(LAYERS);
const fn = new Float64Array(LAYERS);
{
  let dn = R;
  let tn = dn;
  const q = V / Math.exp(-0.5 * dn * dn);
  kn[0] = (dn / q) * SCALE;
  kn[1] = 0;
  wn[0] = q / SCALE;
  wn[LAYERS - 1] = dn / SCALE;
  fn[0] = 1;
  fn[LAYERS - 1] = Math.exp(-0.5 * dn * dn);
  for (let i = LAYERS - 2; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(V / dn + Math.exp(-0.5 * dn * dn)));
    kn[i + 1] = (dn / tn) * SCALE;
    tn = dn;
    fn[i] = Math.exp(-0.5 * dn * dn);
    wn[i] = dn / SCALE;
  }
}

export class SeededNormal {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number, stream = 0) {
    this.s0 = this.s1 = this.s2 = this.s3 = 0;
    this.reseed(seed, stream);
  }

  /** Restart at the beginning of stream `stream` of `seed`: each (seed, stream) pair is its own sequence,
   * so draw n of a sampler can be made at any time, in any order, with the same result. */
  reseed(seed: number, stream = 0): void {
    // SplitMix32 expands the seed (and, mixed in, the stream number) into the 128-bit state (never all zero).
    let x = (seed ^ Math.imul(stream >>> 0, 0x85ebca77)) >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next() ^ (stream >>> 0);
    this.s2 = next();
    this.s3 = next() | 1;
  }

  /** Next 32-bit unsigned integer (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in (0, 1): safe under a logarithm. */
  private open01(): number {
    return (this.nextUint32() + 0.5) / 4294967296;
  }

  /** One standard normal value. Each draw's bits: 7 pick the layer, 1 the sign, 24 the magnitude. */
  normal(): number {
    return this.fromDraw(this.nextUint32());
  }

  /** The ziggurat given its first 32-bit draw (further draws only on the rare slow path). */
  private fromDraw(first: number): number {
    for (let u = first; ; u = this.nextUint32()) {
      const layer = u & (LAYERS - 1);
      const negative = (u & LAYERS) !== 0;
      const m = u >>> 8;
      const x = m * wn[layer];
      if (m < kn[layer]) return negative ? -x : x; // inside the layer's rectangle: about 99% of draws
      if (layer === 0) {
        // The tail beyond R (Marsaglia's method).
        let t: number;
        let y: number;
        do {
          t = -Math.log(this.open01()) / R;
          y = -Math.log(this.open01());
        } while (y + y < t * t);
        return negative ? -(R + t) : R + t;
      }
      if (fn[layer] + this.open01() * (fn[layer - 1] - fn[layer]) < Math.exp(-0.5 * x * x)) return negative ? -x : x;
    }
  }

  /** Fill `out` with standard normal values: the same stream as calling normal() out.length times, with
   * the generator and the ziggurat's fast path inlined (2x faster than the calls). */
  fill(out: Float32Array): Float32Array {
    let { s0, s1, s2, s3 } = this;
    for (let i = 0; i < out.length; i++) {
      const u = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
      const layer = u & (LAYERS - 1);
      const m = u >>> 8;
      if (m < kn[layer]) {
        const x = m * wn[layer];
        out[i] = (u & LAYERS) !== 0 ? -x : x;
      } else {
        this.s0 = s0;
        this.s1 = s1;
        this.s2 = s2;
        this.s3 = s3;
        out[i] = this.fromDraw(u);
        ({ s0, s1, s2, s3 } = this);
      }
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
