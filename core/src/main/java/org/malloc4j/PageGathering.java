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
    /** Never: a request no free run holds takes new pages. */
    OFF,
    /**
     * The default: only when the heap grows past the height it would have reached without gathering, so that each
     * gathering must be paid for by new growth before the next one. A program whose blocks come and go at its peak
     * gathers once per new height, not on every block. Peak committed bytes fall wherever holes are left behind at a
     * new height (the bundled fragmenting workload: peak committed / peak live 1.37 to 1.11; gcc-cc1 1.23 to 1.18);
     * the public traces' replay time does not change, the bundled workloads that gather take 5-13% longer on a
     * virtual machine whose page faults cost 12 us (docs/benchmarks.md).
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
