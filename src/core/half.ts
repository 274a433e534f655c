// Half-precision input: IEEE 754 binary16 values as raw bits in a Uint16Array (what onnxruntime-web hands over for a
// float16 tensor), taken when the caller says so (`options.float16: true`: a Uint16Array is otherwise ambiguous).
// Every binary16 value is exactly a float32, so the bits are converted exactly while staging, through a table of
// all 65536 patterns; ±infinity and NaN come out as themselves and are refused like any non-finite value.

/** A Uint16Array of binary16 bits, as the facade carries it from the options check to the staging copy. */
export class HalfFloats {
  constructor(readonly bits: Uint16Array) {}

  get length(): number {
    return this.bits.length;
  }
}

let table: Float32Array | undefined;

/** The float32 value of every binary16 pattern, built once: sign, 5 exponent bits (bias 15), 10 mantissa bits. */
function halfTable(): Float32Array {
  if (table) return table;
  table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    let value: number;
    if (exponent === 0) value = mantissa * 2 ** -24; // subnormal: m / 1024 * 2^-14
    else if (exponent === 31) value = mantissa === 0 ? Infinity : NaN;
    else value = (1 + mantissa / 1024) * 2 ** (exponent - 15);
    table[h] = sign * value; // exact: every binary16 value is a float32
  }
  return table;
}

/** Decodes bits[from, from + count) into f32 at word `at`. */
export function decodeHalves(bits: Uint16Array, from: number, count: number, f32: Float32Array, at: number): void {
  const values = halfTable();
  for (let i = 0; i < count; i++) f32[at + i] = values[bits[from + i]!]!;
}

/** Every value decoded (for messages and small per-class arrays; the large streams decode while staging). */
export function halfValues(half: HalfFloats): Float32Array {
  const out = new Float32Array(half.length);
  decodeHalves(half.bits, 0, half.length, out, 0);
  return out;
}
