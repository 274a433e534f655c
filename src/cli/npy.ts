// The .npy format (NumPy's np.save), read and written here without a dependency: a strict header parser, typed views
// of the data, typed conversions for labels (int64 without a BigInt per value) and numpy's own header on write.
// No Node import, so the CLI and the loss inspector page (examples/inspector) share it.

/** A file that is not a valid .npy array, or values that do not convert; the message says what and where. */
export class NpyError extends Error {
  override name = 'NpyError';
}

export type NpyDtype =
  | 'bool' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64';

export type NpyData =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array;

export interface NpyArray {
  dtype: NpyDtype;
  /** The shape as saved (a Fortran-ordered 2-D array is already transposed: data are row-major). */
  shape: number[];
  /**
   * The values, row-major: a view of the file's bytes when they are aligned for the type, else a copy. bool is a
   * Uint8Array of 0 and 1; int64 / uint64 are BigInt arrays, best read through toInt32 / toFloat32 / toFloat64,
   * which convert them without making a BigInt per value.
   */
  data: NpyData;
}

interface TypedCtor {
  new (length: number): NpyData;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NpyData;
}

/** The dtypes read, by numpy's type code (kind + item size). */
const DTYPES: Record<string, { dtype: NpyDtype; size: number; ctor: TypedCtor }> = {
  b1: { dtype: 'bool', size: 1, ctor: Uint8Array },
  i1: { dtype: 'int8', size: 1, ctor: Int8Array },
  u1: { dtype: 'uint8', size: 1, ctor: Uint8Array },
  i2: { dtype: 'int16', size: 2, ctor: Int16Array },
  u2: { dtype: 'uint16', size: 2, ctor: Uint16Array },
  i4: { dtype: 'int32', size: 4, ctor: Int32Array },
  u4: { dtype: 'uint32', size: 4, ctor: Uint32Array },
  i8: { dtype: 'int64', size: 8, ctor: BigInt64Array },
  u8: { dtype: 'uint64', size: 8, ctor: BigUint64Array },
  f4: { dtype: 'float32', size: 4, ctor: Float32Array },
  f8: { dtype: 'float64', size: 8, ctor: Float64Array },
};

/** Names of the dtypes refused, so the message says what the file holds. */
const OTHER_DTYPES: Record<string, string> = { f2: 'float16', f16: 'float128', c8: 'complex64', c16: 'complex128' };

const MAGIC = '\x93NUMPY';
/** numpy aligns the data to 64 bytes (magic, version, header length and header together). */
const ALIGN = 64;
/** Typed views read the file's bytes in the host's order; every platform Node and browsers run on is little-endian. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** (3, 4), (3,), () — the way Python and numpy print a shape. */
export function shapeText(shape: readonly number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

/** The dtype's numpy name for a descr such as '<i8' (the descr itself when it is not one of ours). */
function dtypeNameOf(code: string): string {
  return DTYPES[code]?.dtype ?? OTHER_DTYPES[code] ?? code;
}

/**
 * The header's Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }: exactly the
 * three keys, each once; a string, a bool and a tuple of non-negative integers. Anything else is refused rather
 * than guessed at: a wrong shape would read the data as garbage.
 */
function parseHeader(text: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  let at = 0;
  const fail = (what: string): never => {
    throw new NpyError(`corrupt .npy header: ${what} in ${JSON.stringify(text.trimEnd())}`);
  };
  const space = (): void => {
    while (at < text.length && ' \t\r\n'.includes(text[at]!)) at++;
  };
  const expect = (char: string): void => {
    space();
    if (text[at] !== char) fail(`expected '${char}' at offset ${at}`);
    at++;
  };
  const string = (): string => {
    space();
    const quote = text[at];
    if (quote !== "'" && quote !== '"') fail(`expected a quoted string at offset ${at}`);
    const end = text.indexOf(quote!, at + 1);
    if (end < 0) fail('unterminated string');
    const value = text.slice(at + 1, end);
    if (value.includes('\\')) fail('escapes in a string');
    at = end + 1;
    return value;
  };
  const word = (): string => {
    space();
    const start = at;
    while (at < text.length && !',)}: \t\r\n'.includes(text[at]!)) at++;
    return text.slice(start, at);
  };
  const shape = (): number[] => {
    expect('(');
    const dims: number[] = [];
    let commas = 0;
    for (;;) {
      space();
      if (text[at] === ')') break;
      const token = word();
      // Python 2 wrote longs as 3L. Anything but digits (a sign, a point, an exponent, a name) is not a dimension.
      if (!/^\d+L?$/.test(token)) fail(`shape entry '${token}' is not a non-negative integer`);
      const dim = Number(token.replace('L', ''));
      if (!Number.isSafeInteger(dim)) fail(`shape entry ${token} is too large`);
      dims.push(dim);
      space();
      if (text[at] === ',') {
        at++;
        commas++;
      } else if (text[at] !== ')') fail(`expected ',' or ')' after shape entry ${token}`);
    }
    at++;
    if (dims.length === 1 && commas === 0) fail(`shape (${dims[0]}) is not a tuple (one dimension is written (${dims[0]},))`);
    return dims;
  };
  const seen = new Map<string, unknown>();
  expect('{');
  for (;;) {
    space();
    if (text[at] === '}') break;
    const key = string();
    if (seen.has(key)) fail(`key '${key}' twice`);
    expect(':');
    space();
    if (key === 'descr') {
      if (text[at] === '[') throw new NpyError('structured dtypes (a list as descr) are not supported');
      seen.set(key, string());
    } else if (key === 'fortran_order') {
      const value = word();
      if (value !== 'True' && value !== 'False') fail(`fortran_order ${value} is not True or False`);
      seen.set(key, value === 'True');
    } else if (key === 'shape') {
      seen.set(key, shape());
    } else {
      fail(`unexpected key '${key}'`);
    }
    space();
    if (text[at] === ',') at++;
    else if (text[at] !== '}') fail(`expected ',' or '}' at offset ${at}`);
  }
  at++;
  if (text.slice(at).trim() !== '') fail('text after the dict');
  for (const key of ['descr', 'fortran_order', 'shape']) if (!seen.has(key)) fail(`no '${key}'`);
  return { descr: seen.get('descr') as string, fortranOrder: seen.get('fortran_order') as boolean, shape: seen.get('shape') as number[] };
}

/**
 * Parses an .npy file (format versions 1, 2 and 3). Strict: the magic, a known version, a header that fits in the
 * file, a little-endian ('<', or '|' for one-byte types) dtype of the list above, and exactly as many data bytes as
 * the shape needs. Fortran-ordered 2-D arrays are transposed to row-major; more dimensions are refused.
 */
export function parseNpy(bytes: Uint8Array): NpyArray {
  if (!LITTLE_ENDIAN) throw new NpyError('.npy data can only be read on a little-endian host');
  if (bytes.length < 10 || String.fromCharCode(...bytes.subarray(0, 6)) !== MAGIC) {
    throw new NpyError('not an .npy file (no \\x93NUMPY magic at the start)');
  }
  const [major, minor] = [bytes[6]!, bytes[7]!];
  if (major < 1 || major > 3 || minor !== 0) throw new NpyError(`.npy format version ${major}.${minor} is not supported (1.0, 2.0 or 3.0)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = major === 1 ? 10 : 12;
  if (bytes.length < start) throw new NpyError('truncated or corrupt .npy file: the header is cut short');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const offset = start + headerLength;
  if (offset > bytes.length) {
    throw new NpyError(`truncated or corrupt .npy file: its header says ${headerLength} bytes, the file holds ${bytes.length - start} after the preamble`);
  }
  const headerBytes = bytes.subarray(start, offset);
  let text: string;
  try {
    // Versions 1 and 2 are latin1, version 3 UTF-8; numpy writes ASCII either way.
    text = major === 3 ? new TextDecoder('utf-8', { fatal: true }).decode(headerBytes) : latin1(headerBytes);
  } catch {
    throw new NpyError('corrupt .npy header: not UTF-8');
  }
  const header = parseHeader(text);

  const match = /^([<>|=])([a-zA-Z])(\d+)$/.exec(header.descr);
  if (!match) throw new NpyError(`dtype '${header.descr}' is not supported: expected bool, an integer type, float32 or float64`);
  const [, order, kind, size] = match as unknown as [string, string, string, string];
  const code = `${kind}${size}`;
  const type = DTYPES[code];
  if (!type) {
    throw new NpyError(`dtype ${dtypeNameOf(code)} ('${header.descr}') is not supported: expected bool, an integer type, float32 or float64`);
  }
  if (order === '>' && type.size > 1) {
    throw new NpyError(`big-endian data is not supported; save it little-endian (arr.astype('<${code}'))`);
  }
  if (type.size === 1 ? order !== '|' && order !== '<' : order !== '<') {
    throw new NpyError(`dtype '${header.descr}': byte order '${order}' is not valid for ${type.dtype}; expected '${type.size === 1 ? '|' : '<'}${code}'`);
  }

  const { shape } = header;
  let count = 1;
  for (const dim of shape) count *= dim;
  const need = count * type.size;
  if (!Number.isSafeInteger(need)) throw new NpyError(`shape ${shapeText(shape)} is too large`);
  const have = bytes.length - offset;
  if (have !== need) {
    throw new NpyError(`truncated or corrupt .npy file: shape ${shapeText(shape)} of ${type.dtype} needs ${need} bytes of data, the file holds ${have}`);
  }
  const at = bytes.byteOffset + offset;
  let data = at % type.size === 0
    ? new type.ctor(bytes.buffer, at, count)
    : new type.ctor(copy(bytes.subarray(offset)).buffer, 0, count);
  if (header.fortranOrder && shape.length > 2) {
    throw new NpyError(`Fortran-ordered arrays of more than 2 dimensions are not supported (shape ${shapeText(shape)}); save with np.ascontiguousarray`);
  }
  if (header.fortranOrder && shape.length === 2) data = transpose(data, type.ctor, type.size, shape[0]!, shape[1]!);
  return { dtype: type.dtype, shape, data };
}

/** A copy in a buffer of its own, which starts aligned for every type (a Buffer's slice would be a view). */
function copy(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

function latin1(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}

/**
 * A rows x cols array stored column by column, returned row by row. Values move as unsigned words of their width
 * (8-byte ones as two 32-bit words): no NaN payload is touched and no int64 becomes a BigInt.
 */
function transpose(data: NpyData, ctor: TypedCtor, size: number, rows: number, cols: number): NpyData {
  const out = new ctor(data.length);
  type Lanes = Uint8Array | Uint16Array | Uint32Array;
  const Lane: new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Lanes =
    size === 1 ? Uint8Array : size === 2 ? Uint16Array : Uint32Array;
  const width = size === 8 ? 2 : 1;
  const from = new Lane(data.buffer, data.byteOffset, data.length * width);
  const to = new Lane(out.buffer, out.byteOffset, out.length * width);
  for (let c = 0; c < cols; c++) {
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < width; k++) to[(r * cols + c) * width + k] = from[(c * rows + r) * width + k]!;
    }
  }
  return out;
}

/** An int64 / uint64 array as (low, high) 32-bit word pairs over the same bytes. */
function words(data: BigInt64Array | BigUint64Array): Int32Array {
  return new Int32Array(data.buffer, data.byteOffset, data.length * 2);
}

/** The exact value of element i of an int64 / uint64 array, for a message. */
function wide(a: NpyArray, i: number): string {
  return String((a.data as BigInt64Array | BigUint64Array)[i]);
}

/**
 * Whole numbers (class indices) as an Int32Array: int32 data as they are, uint32 as a view once every value is
 * below 2^31, smaller integer types and bool widened natively, int64 / uint64 read as word pairs, floats accepted
 * when every value is a whole number. A value outside int32 (or not whole) throws, naming `${name}[index]`.
 */
export function toInt32(a: NpyArray, name = 'array', what = 'an integer'): Int32Array {
  const { data } = a;
  const outside = (i: number, value: string): never => {
    throw new NpyError(`${name}[${i}] = ${value}: expected ${what}, a whole number within the int32 range`);
  };
  switch (a.dtype) {
    case 'int32':
      return data as Int32Array;
    case 'uint32': {
      const u = data as Uint32Array;
      for (let i = 0; i < u.length; i++) if (u[i]! > 0x7fffffff) outside(i, String(u[i]));
      return new Int32Array(u.buffer, u.byteOffset, u.length); // same bits, as every value is below 2^31
    }
    case 'int64':
    case 'uint64': {
      const w = words(data as BigInt64Array);
      const out = new Int32Array(data.length);
      const signed = a.dtype === 'int64';
      for (let i = 0; i < out.length; i++) {
        const low = w[2 * i]!;
        const high = w[2 * i + 1]!;
        // It fits when the high word is the sign extension of the low one (uint64: both non-negative, high 0).
        if (signed ? high !== low >> 31 : high !== 0 || low < 0) outside(i, wide(a, i));
        out[i] = low;
      }
      return out;
    }
    case 'float32':
    case 'float64': {
      const f = data as Float32Array | Float64Array;
      const out = new Int32Array(f.length);
      for (let i = 0; i < f.length; i++) {
        const v = f[i]!;
        if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) outside(i, String(v));
        out[i] = v;
      }
      return out;
    }
    default:
      return new Int32Array(data as Int8Array | Uint8Array | Int16Array | Uint16Array);
  }
}

/** Numbers for float use, in one typed pass: Out's own type as it is, other floats and integers converted. */
function toFloats<T extends Float32Array | Float64Array>(a: NpyArray, Out: { new (length: number): T; new (from: ArrayLike<number>): T }): T {
  const { data } = a;
  if (data instanceof Out) return data as T;
  if (a.dtype === 'int64' || a.dtype === 'uint64') {
    const w = words(data as BigInt64Array);
    const out = new Out(data.length);
    // high * 2^32 + low: exact below 2^53, the nearest double beyond (then rounded once more into float32).
    if (a.dtype === 'int64') for (let i = 0; i < out.length; i++) out[i] = w[2 * i + 1]! * 4294967296 + (w[2 * i]! >>> 0);
    else for (let i = 0; i < out.length; i++) out[i] = (w[2 * i + 1]! >>> 0) * 4294967296 + (w[2 * i]! >>> 0);
    return out;
  }
  return new Out(data as Exclude<NpyData, BigInt64Array | BigUint64Array>);
}

/** The values as a Float32Array (float32 data as they are; int64 without BigInts). */
export function toFloat32(a: NpyArray): Float32Array {
  return toFloats(a, Float32Array);
}

/** The values as a Float64Array (float64 data as they are; int64 exact below 2^53). */
export function toFloat64(a: NpyArray): Float64Array {
  return toFloats(a, Float64Array);
}

/** numpy's descr for a dtype: little-endian, '|' for the one-byte types. */
const DESCR: Record<NpyDtype, string> = {
  bool: '|b1', int8: '|i1', uint8: '|u1', int16: '<i2', uint16: '<u2', int32: '<i4', uint32: '<u4', int64: '<i8',
  uint64: '<u8', float32: '<f4', float64: '<f8',
};

function dtypeOf(data: NpyData): NpyDtype {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint32Array) return 'uint32';
  return data instanceof BigInt64Array ? 'int64' : 'uint64';
}

/**
 * The header np.save writes for a C-order array: the magic, version 1 (2 when the header outgrows 65535 bytes), its
 * length, then {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } padded with spaces and ended by '\n' so
 * that the data start at a multiple of 64 bytes.
 */
export function npyHeader(dtype: NpyDtype, shape: readonly number[]): Uint8Array {
  for (const dim of shape) if (!Number.isSafeInteger(dim) || dim < 0) throw new NpyError(`shape ${shapeText(shape)}: not non-negative integers`);
  const dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeText(shape)}, }`;
  const padded = (start: number): number => Math.ceil((start + dict.length + 1) / ALIGN) * ALIGN - start;
  const major = padded(10) <= 0xffff ? 1 : 2;
  const start = major === 1 ? 10 : 12;
  const length = padded(start);
  const header = new Uint8Array(start + length);
  const text = MAGIC + String.fromCharCode(major, 0);
  for (let i = 0; i < text.length; i++) header[i] = text.charCodeAt(i);
  const view = new DataView(header.buffer);
  if (major === 1) view.setUint16(8, length, true);
  else view.setUint32(8, length, true);
  header.fill(0x20, start); // spaces
  for (let i = 0; i < dict.length; i++) header[start + i] = dict.charCodeAt(i);
  header[header.length - 1] = 0x0a;
  return header;
}

/**
 * A whole .npy file (header and a copy of the data), for small arrays; `dtype` tells bool from uint8. Large outputs
 * are better written as npyHeader(...) followed by the data's own bytes, without this copy.
 */
export function encodeNpy(data: NpyData, shape: readonly number[] = [data.length], dtype: NpyDtype = dtypeOf(data)): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new NpyError(`shape ${shapeText(shape)} needs ${count} values, got ${data.length}`);
  if (DTYPES[DESCR[dtype].slice(1)]!.size !== data.BYTES_PER_ELEMENT) {
    throw new NpyError(`dtype ${dtype} does not match a ${data.constructor.name}`);
  }
  const header = npyHeader(dtype, shape);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.length);
  return out;
}
