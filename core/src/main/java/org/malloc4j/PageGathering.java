package org.malloc4j;

/**
 * When the heap moves the pages of free runs into a new run instead of taking new pages from the OS
 * ({@link Heap.Builder#pageGathering}). A block needs to be contiguous only in virtual memory: when a request finds
 * no free run long enough among the pages still committed, the pages of shorter free runs (the holes fragmentation
 * leaves between live runs) can be moved into the new run with {@code mremap} (the page tables move, no byte is
 * copied; at most 16 runs a request), their old places given back. Each mode gathers only where committed bytes
 * would otherwise pass their peak.
 */
public enum PageGathering {
    /** Never: a request no free run holds takes new pages. The default. */
    OFF,
    /**
     * Only when the heap grows past the height it would have reached without gathering, so that each gathering must
     * be paid for by new growth before the next one: a program whose blocks come and go at its peak gathers once per
     * new height, not on every block. For a program that grows once (builds a structure, frees parts of it, builds
     * on): the first peak is lower where holes are left behind (the bundled fragmenting workload's first replay:
     * peak committed / peak live 1.37 to 1.11; gcc-cc1 1.23 to 1.18). Not the default, because a program that goes
     * through the same growth again and again gains nothing lasting: the old places it leaves clean are faulted in
     * again, the layout shifts, and committed bytes climb back to where they are without gathering, or above
     * (fragmenting replayed eight times on one heap: 84 MB after the first pass, 104 MB after the eighth, as without
     * gathering; large-mix 101 MB, then 118 MB against 113), while the faults and moves cost the first passes 2x to 4x
     * on a virtual machine whose page faults cost 12 us (docs/benchmarks.md).
     */
    BOUNDED,
    /**
     * At every new peak of committed bytes, however often: the least memory (gcc-cc1 1.15, mawk 1.12), at the price
     * of a system call a moved run and a page fault for each moved page when its old place is used again, over and
     * over in a program whose committed bytes stay at their peak while its layout keeps changing (mawk's replay about
     * ten times slower; see docs/tuning.md).
     */
    AT_EVERY_PEAK
}
