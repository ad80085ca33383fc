/**
 * The conntrack table's index (conntrack.ts): open addressing with linear
 * probing over both tuples of every entry. One Int32Array of
 * [ref + 1 (0 = empty), hash] pairs, where a tuple ref is entry << 1 | dir,
 * sized to a power of two ≥ 4 × capacity: two tuples per entry at load
 * ≤ 0.5, so probes stay short. Storing the hash lets a probe skip a
 * neighbour without touching its record, and lets a rebuild re-insert
 * without rehashing. Deletion is backward-shift (no tombstones), so churn
 * never lengthens probes. 32 bytes per entry.
 *
 * These functions maintain the slots and never read records. The probe loop
 * of a lookup, which compares records, is Conntrack.find: the one call on
 * the per-packet path stays a method of the table, reading its fields.
 */

/** Index slots (pairs) for a table of `entries` records: a power of two ≥ 4 × entries, at least 8. */
export function indexSlots(entries: number): number {
  let n = 8;
  while (n < entries * 4) n *= 2;
  return n;
}

export function indexPut(idx: Int32Array, mask: number, ref: number, h: number): void {
  let i = h & mask;
  while (idx[i << 1] !== 0) i = (i + 1) & mask;
  idx[i << 1] = ref + 1;
  idx[(i << 1) + 1] = h;
}

/** Backward-shift deletion (Knuth 6.4 Algorithm R): later members of the cluster move up into the hole if that does not pass their home slot. */
export function indexDelete(idx: Int32Array, mask: number, ref: number, h: number): void {
  let i = h & mask;
  while (idx[i << 1] !== ref + 1) i = (i + 1) & mask;
  for (let j = (i + 1) & mask; idx[j << 1] !== 0; j = (j + 1) & mask) {
    const home = idx[(j << 1) + 1] & mask;
    if (((j - home) & mask) >= ((j - i) & mask)) {
      idx[i << 1] = idx[j << 1];
      idx[(i << 1) + 1] = idx[(j << 1) + 1];
      i = j;
    }
  }
  idx[i << 1] = 0;
  idx[(i << 1) + 1] = 0;
}

/** A new index of `slots` pairs holding every ref of `old`, re-inserted from its stored hashes. */
export function indexRebuild(old: Int32Array, slots: number): Int32Array {
  const idx = new Int32Array(slots * 2),
    mask = slots - 1;
  for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) indexPut(idx, mask, old[i] - 1, old[i + 1]);
  return idx;
}
