// Reading model outputs and labels into one shape the inspector works on: a JSON file
// ({ logits: N×C or N numbers, labels: N, classNames? }) or two .npy files (logits and labels), read with npyjs.
import { parse, type NpyArray } from 'npyjs';

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

interface Table {
  data: ArrayLike<number>;
  shape: number[];
}

function fromTables(name: string, logits: Table, labels: Table, names?: unknown): Dataset {
  const n = logits.shape[0] ?? 0;
  const columns = logits.shape.length === 2 ? logits.shape[1]! : 1;
  if (logits.shape.length > 2 || logits.data.length !== n * columns) {
    throw new Error(`logits: expected shape N×C or N, got ${logits.shape.join('×')}`);
  }
  if (labels.data.length !== n) {
    throw new Error(`labels: expected ${n} labels (one per row of logits), got ${labels.data.length}`);
  }
  const kind = columns > 1 ? 'multiclass' : 'binary';
  const classes = kind === 'multiclass' ? columns : 2;
  const classNames = Array.isArray(names) && names.length === classes
    ? names.map(String)
    : kind === 'binary' ? ['negative', 'positive'] : Array.from({ length: classes }, (_, c) => `class ${c}`);
  return {
    name, kind, n, classes, classNames,
    logits: Float32Array.from(logits.data),
    // Multi-class labels are class indices (validated by the engine); binary ones targets in [0, 1].
    labels: kind === 'multiclass' ? Int32Array.from(labels.data) : Float32Array.from(labels.data),
  };
}

export function fromJson(name: string, text: string): Dataset {
  const json = JSON.parse(text) as { logits?: unknown; labels?: unknown; targets?: unknown; classNames?: unknown };
  const rows = json.logits;
  const labels = json.labels ?? json.targets;
  if (!Array.isArray(rows) || !Array.isArray(labels)) {
    throw new Error(`${name}: expected { "logits": [...], "labels": [...] }`);
  }
  const columns = Array.isArray(rows[0]) ? (rows[0] as unknown[]).length : 0;
  const logits: Table = columns > 0
    ? { data: (rows as number[][]).flat(), shape: [rows.length, columns] }
    : { data: rows as number[], shape: [rows.length] };
  return fromTables(name, logits, { data: labels as number[], shape: [labels.length] }, json.classNames);
}

function toTable(array: NpyArray): Table {
  const data = array.data as unknown as ArrayLike<number>;
  if (!array.fortranOrder || array.shape.length < 2) return { data, shape: array.shape };
  // Fortran order: transpose into the row-major layout the engine reads.
  const [rows, columns] = array.shape as [number, number];
  const rowMajor = new Float64Array(rows * columns);
  for (let i = 0; i < rows; i++) for (let c = 0; c < columns; c++) rowMajor[i * columns + c] = data[c * rows + i]!;
  return { data: rowMajor, shape: array.shape };
}

const isInteger = (a: NpyArray): boolean => /^[iub]/.test(a.dtype);

/** Two .npy files: the labels are the one named label/target, else the integer one, else the one-dimensional one. */
export function fromNpy(files: ReadonlyArray<{ name: string; bytes: ArrayBuffer }>): Dataset {
  if (files.length !== 2) {
    throw new Error(`pick two .npy files, logits (N×C or N) and labels (N); got ${files.length}`);
  }
  const arrays = files.map((f) => ({ name: f.name, array: parse(f.bytes) }));
  const score = ({ name, array }: (typeof arrays)[number]): number =>
    (/label|target/i.test(name) ? 4 : 0) + (isInteger(array) ? 2 : 0) + (array.shape.length === 1 ? 1 : 0);
  const [labels, logits] = [...arrays].sort((a, b) => score(b) - score(a)) as [(typeof arrays)[0], (typeof arrays)[0]];
  return fromTables(`${logits.name} + ${labels.name}`, toTable(logits.array), toTable(labels.array));
}

/** Whatever the user picked or dropped: one .json, or two .npy. */
export async function readFiles(files: readonly File[]): Promise<Dataset> {
  const json = files.find((f) => f.name.toLowerCase().endsWith('.json'));
  if (json && files.length === 1) return fromJson(json.name, await json.text());
  const npy = files.filter((f) => f.name.toLowerCase().endsWith('.npy'));
  if (npy.length !== files.length) throw new Error('expected one .json file or two .npy files (logits and labels)');
  return fromNpy(await Promise.all(npy.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() }))));
}
