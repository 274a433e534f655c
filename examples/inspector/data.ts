// Reading model outputs and labels into one shape the inspector works on: a JSON file
// ({ logits: N×C or N numbers, labels: N, classNames? }) or two .npy files (logits and labels), read with the
// CLI's own .npy module (src/cli/npy.ts: numpy's int64 labels included, no dependency).
import { NpyError, parseNpy, shapeText, toFloat32, toInt32, type NpyArray } from '../../src/cli/npy.js';

export interface Dataset {
  name: string;
  /** 'binary': N logits and N targets in [0, 1] (sigmoid focal loss); 'multiclass': N×C logits, N class indices. */
  kind: 'binary' | 'multiclass';
  n: number;
  classes: number;
  /** Row-major N×C (or N) logits. */
  logits: Float32Array;
  labels: Float32Array | Int32Array;
  classNames: string[];
}

/** Logits as read: where they came from (a file name, or 'logits' in a JSON file), the numbers and their shape. */
interface Table {
  source: string;
  data: ArrayLike<number>;
  shape: number[];
}

/** Labels as read; converted once the logits tell binary targets (float) from class indices (int32). */
interface Labels {
  source: string;
  shape: number[];
  floats(): Float32Array;
  indices(): Int32Array;
}

function fromTables(name: string, logits: Table, labels: Labels, names?: unknown): Dataset {
  const n = logits.shape[0] ?? 0;
  const columns = logits.shape.length === 2 ? logits.shape[1]! : 1;
  if (logits.shape.length > 2 || logits.shape.length === 0 || logits.data.length !== n * columns) {
    throw new Error(`${logits.source}: expected logits of shape N×C or N, got ${shapeText(logits.shape)}`);
  }
  if (labels.shape.length !== 1 || labels.shape[0] !== n) {
    throw new Error(`${labels.source}: expected ${n} labels (shape (${n},), one per row of logits ${shapeText(logits.shape)}), got shape ${shapeText(labels.shape)}`);
  }
  const kind = columns > 1 ? 'multiclass' : 'binary';
  const classes = kind === 'multiclass' ? columns : 2;
  const classNames = Array.isArray(names) && names.length === classes
    ? names.map(String)
    : kind === 'binary' ? ['negative', 'positive'] : Array.from({ length: classes }, (_, c) => `class ${c}`);
  return {
    name, kind, n, classes, classNames,
    logits: logits.data instanceof Float32Array ? logits.data : Float32Array.from(logits.data),
    // Multi-class labels are class indices (validated by the engine); binary ones targets in [0, 1].
    labels: kind === 'multiclass' ? labels.indices() : labels.floats(),
  };
}

export function fromJson(name: string, text: string): Dataset {
  let json: { logits?: unknown; labels?: unknown; targets?: unknown; classNames?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch (e) {
    throw new Error(`${name}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const rows = json.logits;
  const labels = json.labels ?? json.targets;
  if (!Array.isArray(rows) || !Array.isArray(labels)) {
    throw new Error(`${name}: expected { "logits": [...], "labels": [...] }`);
  }
  const columns = Array.isArray(rows[0]) ? (rows[0] as unknown[]).length : 0;
  const logits = columns > 0
    ? { data: (rows as number[][]).flat(), shape: [rows.length, columns] }
    : { data: rows as number[], shape: [rows.length] };
  const values = labels as number[];
  return fromTables(name, { source: `${name} (logits)`, ...logits }, {
    source: `${name} (labels)`, shape: [values.length],
    floats: () => Float32Array.from(values), indices: () => Int32Array.from(values),
  }, json.classNames);
}

/** Runs a step on one file's array, its message then naming the file. */
function inFile<T>(file: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof NpyError) throw new Error(`${file}: ${error.message}`);
    throw error;
  }
}

const isInteger = (a: NpyArray): boolean => !a.dtype.startsWith('float');

/** Two .npy files: the labels are the one named label/target, else the integer one, else the one-dimensional one. */
export function fromNpy(files: ReadonlyArray<{ name: string; bytes: ArrayBuffer }>): Dataset {
  if (files.length !== 2) {
    throw new Error(`pick two .npy files, logits (N×C or N) and labels (N); got ${files.length}: ${files.map((f) => f.name).join(', ')}`);
  }
  const arrays = files.map((f) => ({ name: f.name, array: inFile(f.name, () => parseNpy(new Uint8Array(f.bytes))) }));
  const score = ({ name, array }: (typeof arrays)[number]): number =>
    (/label|target/i.test(name) ? 4 : 0) + (isInteger(array) ? 2 : 0) + (array.shape.length === 1 ? 1 : 0);
  const [labels, logits] = [...arrays].sort((a, b) => score(b) - score(a)) as [(typeof arrays)[0], (typeof arrays)[0]];
  return fromTables(`${logits.name} + ${labels.name}`,
    { source: logits.name, data: inFile(logits.name, () => toFloat32(logits.array)), shape: logits.array.shape },
    {
      source: labels.name, shape: labels.array.shape,
      floats: () => inFile(labels.name, () => toFloat32(labels.array)),
      indices: () => inFile(labels.name, () => toInt32(labels.array, 'labels', 'a class index')),
    });
}

/** Whatever the user picked or dropped: one .json, or two .npy. */
export async function readFiles(files: readonly File[]): Promise<Dataset> {
  const json = files.find((f) => f.name.toLowerCase().endsWith('.json'));
  if (json && files.length === 1) return fromJson(json.name, await json.text());
  const npy = files.filter((f) => f.name.toLowerCase().endsWith('.npy'));
  if (npy.length !== files.length) {
    throw new Error(`expected one .json file or two .npy files (logits and labels); got ${files.map((f) => f.name).join(', ')}`);
  }
  return fromNpy(await Promise.all(npy.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() }))));
}
