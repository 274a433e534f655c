// The pool's workers share one WebAssembly.Memory with the calling thread, so that the calling thread copies a
// caller's arrays straight into the memory the kernels read, and the workers read and write them in place: no copy
// into a worker, none out of it. A module can only use a shared memory it imports, and the builds define their own
// (unshared) memory, which is what the single-thread engine needs everywhere (a shared memory needs
// SharedArrayBuffer: cross-origin isolated pages only). So the pool rewrites a build's bytes once: the memory
// section (id 5) is dropped and an import of a shared memory ("env" "memory") added in its place in the import
// section (id 2). Nothing else moves: memory index 0 is the imported memory, the export of "memory" still names it,
// and the builds have no data segments to re-apply per instance (checked: a build that had one is refused).

/** The most a wasm32 memory can hold, in 64 KiB pages: the pool's memory grows to what its largest call needs. */
export const SHARED_MAX_PAGES = 65536;

const SECTION_IMPORT = 2;
const SECTION_MEMORY = 5;
const SECTION_DATA = 11;
const IMPORT_MEMORY = 0x02;
const LIMITS_SHARED_WITH_MAX = 0x03;

function readLeb(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = bytes[at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, at];
}

function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

function name(text: string): number[] {
  return [...leb(text.length), ...Array.from(text, (c) => c.charCodeAt(0))];
}

/**
 * The bytes of a build whose memory is imported as `env.memory`, shared, with SHARED_MAX_PAGES pages at most (the
 * build's own minimum kept). Throws on a module that is not one of this package's builds (no memory section, an
 * imported memory already, or data segments).
 */
export function sharedMemoryModule(bytes: Uint8Array): Uint8Array {
  const sections: { id: number; body: Uint8Array }[] = [];
  for (let at = 8; at < bytes.length;) {
    const id = bytes[at]!;
    const [size, start] = readLeb(bytes, at + 1);
    sections.push({ id, body: bytes.subarray(start, start + size) });
    at = start + size;
  }
  const memory = sections.find((s) => s.id === SECTION_MEMORY);
  if (!memory || sections.some((s) => s.id === SECTION_DATA)) {
    throw new Error('sharedMemoryModule: expected a build that defines its memory and has no data segments');
  }
  // The memory section: a count (1), then limits (flags, minimum[, maximum]).
  const [, limitsAt] = readLeb(memory.body, 0);
  const flags = memory.body[limitsAt]!;
  const [minimum] = readLeb(memory.body, limitsAt + 1);
  if (flags & 0x02) throw new Error('sharedMemoryModule: the build already has a shared memory');
  const entry = [...name('env'), ...name('memory'), IMPORT_MEMORY, LIMITS_SHARED_WITH_MAX, ...leb(minimum), ...leb(SHARED_MAX_PAGES)];
  const imports = sections.find((s) => s.id === SECTION_IMPORT);
  let importBody: number[];
  if (imports) {
    const [count, rest] = readLeb(imports.body, 0);
    importBody = [...leb(count + 1), ...imports.body.subarray(rest), ...entry];
  } else {
    importBody = [...leb(1), ...entry];
  }
  const out: number[] = Array.from(bytes.subarray(0, 8));
  const emit = (id: number, body: ArrayLike<number>): void => {
    out.push(id, ...leb(body.length));
    for (let i = 0; i < body.length; i++) out.push(body[i]!);
  };
  let placed = false;
  for (const section of sections) {
    if (section.id === SECTION_IMPORT) continue;
    // Sections are ordered by id (custom sections, id 0, anywhere): the import section goes before the first
    // section with a larger id.
    if (!placed && section.id !== 0 && section.id > SECTION_IMPORT) {
      emit(SECTION_IMPORT, importBody);
      placed = true;
    }
    if (section.id === SECTION_MEMORY) continue;
    emit(section.id, section.body);
  }
  if (!placed) emit(SECTION_IMPORT, importBody);
  return Uint8Array.from(out);
}
