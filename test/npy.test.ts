// The .npy module on its own (src/cli/npy.ts, no file system): every dtype written and read back, the header
// byte for byte as np.save writes it, format versions 2 and 3, views and copies, Fortran order, and the typed
// conversions of labels (int64 without BigInts) with the errors that name the offending element.
import { describe, expect, it } from 'vitest';
import { encodeNpy, npyHeader, NpyError, parseNpy, toFloat32, toFloat64, toInt32, type NpyData } from '../src/cli/npy.js';

/** A file with the header dict given, in format version `major`, padded to 64 bytes as numpy pads it. */
function file(dict: string, data: Uint8Array, major = 1): Uint8Array {
  const start = major === 1 ? 10 : 12;
  const length = Math.ceil((start + dict.length + 1) / 64) * 64 - start;
  const out = new Uint8Array(start + length + data.length).fill(0x20, start, start + length);
  out.set([0x93, ...Array.from('NUMPY', (c) => c.charCodeAt(0)), major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, length, true);
  else view.setUint32(8, length, true);
  out.set(Array.from(dict, (c) => c.charCodeAt(0)), start);
  out[start + length - 1] = 0x0a;
  out.set(data, start + length);
  return out;
}

const bytesOf = (a: NpyData): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('npy: reading what it writes, and what numpy writes', () => {
  it('round-trips every dtype, shape and value', () => {
    const arrays: [NpyData, string?][] = [
      [Float32Array.of(1.5, -0, NaN, Infinity)], [Float64Array.of(1e300, -2.5, 0, 5)], [Int8Array.of(-128, 127, 0, 1)],
      [Uint8Array.of(0, 255, 1, 2)], [Uint8Array.of(1, 0, 1, 1), 'bool'], [Int16Array.of(-32768, 32767, 0, 1)],
      [Uint16Array.of(65535, 0, 1, 2)], [Int32Array.of(-(2 ** 31), 2 ** 31 - 1, 0, 1)], [Uint32Array.of(2 ** 32 - 1, 0, 1, 2)],
      [BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n)], [BigUint64Array.of(2n ** 64n - 1n, 0n, 1n, 2n)],
    ];
    for (const [data, dtype] of arrays) {
      const back = parseNpy(encodeNpy(data, [2, 2], dtype as never));
      expect(back.shape).toEqual([2, 2]);
      expect(back.data.constructor).toBe(data.constructor);
      expect(Array.from(back.data as ArrayLike<unknown>)).toEqual(Array.from(data as ArrayLike<unknown>));
      if (dtype) expect(back.dtype).toBe('bool');
    }
  });

  it("writes np.save's header byte for byte (numpy 2.4: np.save of a (64, 5) float32 array)", () => {
    const header = npyHeader('float32', [64, 5]);
    const text = "{'descr': '<f4', 'fortran_order': False, 'shape': (64, 5), }";
    expect(header.length).toBe(128);
    expect(Array.from(header.subarray(0, 10))).toEqual([0x93, 78, 85, 77, 80, 89, 1, 0, 118, 0]);
    expect(new TextDecoder().decode(header.subarray(10))).toBe(`${text}${' '.repeat(118 - text.length - 1)}\n`);
    expect(new TextDecoder().decode(npyHeader('int64', []).subarray(10)).trimEnd()).toBe("{'descr': '<i8', 'fortran_order': False, 'shape': (), }");
    expect(new TextDecoder().decode(npyHeader('bool', [7]).subarray(10)).trimEnd()).toBe("{'descr': '|b1', 'fortran_order': False, 'shape': (7,), }");
  });

  it('reads format versions 2 and 3, a compact header without spaces, 0-d and empty arrays', () => {
    const data = bytesOf(Int16Array.of(0, 1, 2, 3, 4, 5));
    for (const major of [2, 3]) {
      const a = parseNpy(file("{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }", data, major));
      expect([a.dtype, a.shape, Array.from(a.data as Int16Array)]).toEqual(['int16', [2, 3], [0, 1, 2, 3, 4, 5]]);
    }
    expect(parseNpy(file("{'descr':'<i2','fortran_order':False,'shape':(6,)}", data)).shape).toEqual([6]);
    expect(Array.from(parseNpy(encodeNpy(Float32Array.of(3.5), [])).data as Float32Array)).toEqual([3.5]);
    expect(parseNpy(encodeNpy(new Float32Array(0), [0, 5])).shape).toEqual([0, 5]);
  });

  it('writes version 2 when the header outgrows 65535 bytes, and reads it back', () => {
    const shape = Array.from({ length: 25_000 }, () => 1);
    const bytes = encodeNpy(Float32Array.of(2), shape);
    expect(bytes[6]).toBe(2);
    expect((12 + new DataView(bytes.buffer).getUint32(8, true)) % 64).toBe(0);
    expect(parseNpy(bytes).shape).toHaveLength(25_000);
  });

  it('views the bytes where they are aligned, copies them where not', () => {
    const bytes = encodeNpy(Float32Array.of(1, 2, 3));
    expect(parseNpy(bytes).data.buffer).toBe(bytes.buffer);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const copied = parseNpy(shifted.subarray(1));
    expect(copied.data.buffer).not.toBe(shifted.buffer);
    expect(Array.from(copied.data as Float32Array)).toEqual([1, 2, 3]);
  });

  it('transposes Fortran-ordered 2-D arrays, 8-byte values moved as words (int64 -1, a NaN pattern, intact)', () => {
    const columns = BigInt64Array.of(-1n, 2n ** 40n, 3n, -(2n ** 62n), 5n, 6n); // 2 x 3, stored column by column
    const a = parseNpy(file("{'descr': '<i8', 'fortran_order': True, 'shape': (2, 3), }", bytesOf(columns)));
    expect(Array.from(a.data as BigInt64Array)).toEqual([-1n, 3n, 5n, 2n ** 40n, -(2n ** 62n), 6n]);
    const f = parseNpy(file("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", bytesOf(Float32Array.of(1, 4, 2, 5, 3, 6))));
    expect(Array.from(f.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('npy: refused files', () => {
  const data = bytesOf(new Float32Array(6));
  const cases: [string, Uint8Array, RegExp][] = [
    ['no magic', new TextEncoder().encode('hello, world'), /not an \.npy file/],
    ['version 4', (() => { const b = file("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", data); b[6] = 4; return b; })(), /version 4\.0 is not supported/],
    ['a negative dimension', file("{'descr': '<f4', 'fortran_order': False, 'shape': (-6,), }", data), /shape entry '-6' is not a non-negative integer/],
    ['a fractional dimension', file("{'descr': '<f4', 'fortran_order': False, 'shape': (1.5, 4), }", data), /shape entry '1\.5'/],
    ['an exponent', file("{'descr': '<f4', 'fortran_order': False, 'shape': (6e0,), }", data), /shape entry '6e0'/],
    ['a missing key', file("{'descr': '<f4', 'shape': (6,), }", data), /no 'fortran_order'/],
    ['a key twice', file("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", data), /key 'descr' twice/],
    ['fortran_order not a bool', file("{'descr': '<f4', 'fortran_order': 0, 'shape': (6,), }", data), /fortran_order 0 is not True or False/],
    ['a structured dtype', file("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }", data), /structured dtypes/],
    ['text after the dict', file("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), } x", data), /text after the dict/],
    ['big-endian', file("{'descr': '>f4', 'fortran_order': False, 'shape': (6,), }", data), /big-endian data is not supported/],
    ["native order '='", file("{'descr': '=f4', 'fortran_order': False, 'shape': (6,), }", data), /byte order '=' is not valid for float32; expected '<f4'/],
    ['complex', file("{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", data), /dtype complex64 \('<c8'\) is not supported/],
    ['truncated data', file("{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }", data), /needs 28 bytes of data, the file holds 24/],
  ];
  it.each(cases)('%s', (_, bytes, message) => {
    expect(() => parseNpy(bytes)).toThrow(NpyError);
    expect(() => parseNpy(bytes)).toThrow(message);
  });
});

describe('npy: typed conversions of labels', () => {
  const read = (data: NpyData, dtype?: string) => parseNpy(encodeNpy(data, [data.length], dtype as never));

  it('gives class indices as an Int32Array: int32 as it is, every other integer type, bool and whole floats converted', () => {
    const int32 = read(Int32Array.of(0, 4, -100));
    expect(toInt32(int32)).toBe(int32.data);
    const want = [0, 4, 2 ** 31 - 1, -(2 ** 31), -1];
    expect(Array.from(toInt32(read(BigInt64Array.from(want, BigInt))))).toEqual(want);
    expect(Array.from(toInt32(read(BigUint64Array.of(0n, 4n, 2n ** 31n - 1n))))).toEqual([0, 4, 2 ** 31 - 1]);
    expect(Array.from(toInt32(read(Uint32Array.of(0, 2 ** 31 - 1))))).toEqual([0, 2 ** 31 - 1]);
    expect(Array.from(toInt32(read(Uint8Array.of(1, 0, 1), 'bool')))).toEqual([1, 0, 1]);
    expect(Array.from(toInt32(read(Int16Array.of(-100, 3))))).toEqual([-100, 3]);
    expect(Array.from(toInt32(read(Float64Array.of(2, -100))))).toEqual([2, -100]);
  });

  it('refuses a value outside int32 (or not whole), naming its index and its exact value', () => {
    expect(() => toInt32(read(BigInt64Array.of(1n, 2n ** 31n)), 'targets')).toThrow('targets[1] = 2147483648: expected an integer, a whole number within the int32 range');
    expect(() => toInt32(read(BigInt64Array.of(0n, 0n, -(2n ** 31n) - 1n)), 'y')).toThrow('y[2] = -2147483649');
    expect(() => toInt32(read(BigInt64Array.of(2n ** 32n)))).toThrow('array[0] = 4294967296'); // low word 0: the high word decides
    expect(() => toInt32(read(BigUint64Array.of(0n, 2n ** 63n)))).toThrow('array[1] = 9223372036854775808');
    expect(() => toInt32(read(Uint32Array.of(2 ** 31)))).toThrow('array[0] = 2147483648');
    expect(() => toInt32(read(Float32Array.of(0, 1.5)), 'targets', 'a class index')).toThrow('targets[1] = 1.5: expected a class index');
  });

  it('gives floats in one typed pass: int64 exact to 2^53 in float64, rounded once more in float32', () => {
    const int64 = read(BigInt64Array.of(0n, 1n, -3n, 2n ** 53n, -(2n ** 40n) - 1n));
    expect(Array.from(toFloat64(int64))).toEqual([0, 1, -3, 2 ** 53, -(2 ** 40) - 1]);
    expect(Array.from(toFloat32(int64))).toEqual([0, 1, -3, 2 ** 53, Math.fround(-(2 ** 40) - 1)]);
    expect(Array.from(toFloat32(read(BigUint64Array.of(2n ** 64n - 1n))))).toEqual([Math.fround(2 ** 64)]);
    expect(Array.from(toFloat32(read(Uint8Array.of(1, 0), 'bool')))).toEqual([1, 0]);
    const f32 = read(Float32Array.of(0.5));
    expect(toFloat32(f32)).toBe(f32.data);
    expect(toFloat64(read(Float32Array.of(0.5)))).toBeInstanceOf(Float64Array);
  });
});
