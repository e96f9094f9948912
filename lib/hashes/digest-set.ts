// The set a parse finds duplicates with: hex digests held as their bytes in one buffer, found through an
// open-addressing table. A million SHA-256s take about 45 MB here, against about 130 MB as a Set of strings (which
// would also keep alive every chunk of text they were cut from).
//
// Digests come from whoever uploads: the table's hash is seeded per set, so a list built to collide cannot make
// the lookups quadratic.

export class DigestSet {
  private bytes = new Uint8Array(64 * 1024);
  private used = 0;
  /** Entry i's bytes start at starts[i] and end at starts[i + 1]. */
  private starts = new Int32Array(4096);
  private count = 0;
  /** Entry index + 1 per slot, 0 for an empty slot; kept at most half full. */
  private table = new Int32Array(8192);
  private readonly seed = (Math.random() * 0x100000000) | 0;

  get size(): number {
    return this.count;
  }

  /** Adds a lower-case hex digest (an even number of digits); false when it was already there. */
  add(hex: string): boolean {
    const length = hex.length >> 1;
    this.reserve(length);
    const at = this.used;
    const bytes = this.bytes;
    for (let i = 0; i < length; i++) bytes[at + i] = (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1));

    const mask = this.table.length - 1;
    for (let slot = this.hash(at, length) & mask; ; slot = (slot + 1) & mask) {
      const entry = this.table[slot];
      if (entry === 0) {
        this.table[slot] = this.count + 1;
        break;
      }
      if (this.equals(entry - 1, at, length)) return false;
    }
    this.count++;
    this.used += length;
    this.starts[this.count] = this.used;
    if (this.count * 2 > this.table.length) this.rehash();
    return true;
  }

  private hash(at: number, length: number): number {
    let h = this.seed ^ length;
    for (let i = at; i < at + length; i++) h = Math.imul(h ^ this.bytes[i], 0x01000193);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    return h ^ (h >>> 13);
  }

  private equals(entry: number, at: number, length: number): boolean {
    const start = this.starts[entry];
    if (this.starts[entry + 1] - start !== length) return false;
    for (let i = 0; i < length; i++) if (this.bytes[start + i] !== this.bytes[at + i]) return false;
    return true;
  }

  /** Room for one more entry of `length` bytes. */
  private reserve(length: number) {
    if (this.used + length > this.bytes.length) this.bytes = grown(this.bytes, this.used + length);
    if (this.count + 2 > this.starts.length) this.starts = grown(this.starts, this.count + 2);
  }

  private rehash() {
    const table = new Int32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let entry = 0; entry < this.count; entry++) {
      const start = this.starts[entry];
      let slot = this.hash(start, this.starts[entry + 1] - start) & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = entry + 1;
    }
    this.table = table;
  }
}

/** 0–9, a–f (the parse lower-cases digests first). */
const nibble = (code: number) => (code <= 57 ? code - 48 : code - 87);

function grown<T extends Uint8Array | Int32Array>(array: T, needed: number): T {
  const next = new (array.constructor as new (length: number) => T)(Math.max(needed, Math.ceil(array.length * 1.5)));
  next.set(array);
  return next;
}
