// How a received value is named in error messages: short and exact (a number prints every digit it has).

/** A short, exact rendering of a received value for messages. */
export function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `${/^[AEIO]/.test(value.constructor.name) ? 'an' : 'a'} ${value.constructor.name}`;
  if (typeof value === 'object') return `an ${value.constructor?.name ?? 'object'}`;
  return `a ${typeof value}`;
}
