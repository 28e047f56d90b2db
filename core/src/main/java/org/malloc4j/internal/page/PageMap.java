package org.malloc4j.internal.page;

import org.malloc4j.internal.os.Memory;
import org.malloc4j.internal.os.Os;

/**
 * Out-of-band metadata for every page of a reservation: 32 bytes a page in a separate NORESERVE mapping, so
 * a page's record is found by arithmetic and only the records of touched pages take memory. Nothing about
 * a block is ever stored inside the block, so a user overflow cannot corrupt the heap's bookkeeping.
 *
 * <p>Runs of pages tile the reservation. The first and the last page of each run carry a tag
 * ({@code length << 3 | state}); pages inside a run carry 0. Per state, the other words of the first page
 * hold:
 * <ul>
 *   <li>{@link #FREE_DIRTY}, {@link #FREE_CLEAN}: word 1 = next and prev run in the free list; word 2 = when the
 *       run became free, and the upper half of word 3 = its decay stamp (dirty runs: see {@link DecayQueue}); in a run of at least 32 pages, word 1 of the second page (interior, read by
 *       nothing else) holds the run's children in its index's tree ({@link FreeRunIndex});</li>
 *   <li>{@link #USED}: word 1 = the size the program asked for; word 2 = flags (what holds the block when a layer
 *       of the heap does, see {@link PageHeap#hold}).</li>
 * </ul>
 * The lower half of the last page's word 3 holds the index of the run's first page, the boundary tag that makes
 * coalescing with the previous run O(1). (Word 3, not word 1: in a one-page run the first page is also the last.) The
 * first page's word 3 holds its own index too, so that a first page is told from a last page, which carries the same tag: only a
 * page whose word 3 names itself starts a run.
 */
final class PageMap {
    static final int INTERIOR = 0;
    /** A block handed to the program (medium or large). */
    static final int USED = 1;
    /** A run carved into small blocks by the small-object layer. */
    static final int SLAB = 2;
    /** Free, and may still be resident: counted in committed bytes until purged. */
    static final int FREE_DIRTY = 3;
    /** Free and given back to the OS: reads as zero when touched again. */
    static final int FREE_CLEAN = 4;

    private static final int RECORD = 32;
    private final long base;
    private final long size;

    PageMap(long pages) {
        this.size = pages * RECORD;
        long rounded = (size + Os.PAGE_SIZE - 1) & -Os.PAGE_SIZE;
        long reserved = Os.reserve(rounded, Os.PAGE_SIZE);
        if (reserved < 0) {
            throw new org.malloc4j.HeapExhaustedException(rounded, "cannot reserve " + rounded
                    + " bytes of address space for the page metadata (mmap: errno " + -reserved + ")");
        }
        this.base = reserved;
    }

    void release() {
        Os.unmap(base, (size + Os.PAGE_SIZE - 1) & -Os.PAGE_SIZE);
    }

    private long rec(int page) {
        return base + (long) page * RECORD;
    }

    int state(int page) {
        return (int) (Memory.getLong(rec(page)) & 7);
    }

    long length(int page) {
        return Memory.getLong(rec(page)) >>> 3;
    }

    /** Tags a run [first, first + length) with {@code state} on its first and last page. */
    void tagRun(int first, long length, int state) {
        long tag = length << 3 | state;
        Memory.putLong(rec(first), tag);
        Memory.putInt(rec(first) + 24, first);
        Memory.putInt(rec(first) + 28, 0); // no decay stamp
        int last = (int) (first + length - 1);
        if (last != first) {
            Memory.putLong(rec(last), tag);
            Memory.putInt(rec(last) + 24, first);
            Memory.putInt(rec(last) + 28, 0); // a stamp it had as a first page is stale: no entry may match a last page
        }
    }

    /**
     * Clears a page that becomes interior (after a merge): its tag, and its decay stamp, so that an old decay
     * entry for it can never match again.
     */
    void clear(int page) {
        Memory.putLong(rec(page), 0L);
        Memory.putLong(rec(page) + 16, 0L);
        Memory.putInt(rec(page) + 28, 0);
    }

    /** @return true when {@code page} is the first page of a run (not its last page, which carries the same tag) */
    boolean isRunStart(int page) {
        return Memory.getInt(rec(page) + 24) == page;
    }

    /** @return the first page of the run whose last page is {@code last} */
    int firstOf(int last) {
        return Memory.getInt(rec(last) + 24);
    }

    int next(int page) {
        return Memory.getInt(rec(page) + 8);
    }

    int prev(int page) {
        return Memory.getInt(rec(page) + 12);
    }

    void setNext(int page, int next) {
        Memory.putInt(rec(page) + 8, next);
    }

    void setPrev(int page, int prev) {
        Memory.putInt(rec(page) + 12, prev);
    }

    /** The left child, in its index's tree, of the free run at {@code page} (word 1 of its second page). */
    int left(int page) {
        return Memory.getInt(rec(page + 1) + 8);
    }

    int right(int page) {
        return Memory.getInt(rec(page + 1) + 12);
    }

    void setLeft(int page, int child) {
        Memory.putInt(rec(page + 1) + 8, child);
    }

    void setRight(int page, int child) {
        Memory.putInt(rec(page + 1) + 12, child);
    }

    /** Word 1 of a used run's first page: the size the program asked for. Shares storage with the links. */
    long requested(int page) {
        return Memory.getLong(rec(page) + 8);
    }

    void setRequested(int page, long bytes) {
        Memory.putLong(rec(page) + 8, bytes);
    }

    /** The decay stamp of the dirty run at {@code page} (the upper half of word 3), 0 when it has no queued entry. */
    int stamp(int page) {
        return Memory.getInt(rec(page) + 28);
    }

    void setStamp(int page, int stamp) {
        Memory.putInt(rec(page) + 28, stamp);
    }

    /** Word 2 of a used run's first page: its flags; of a dirty run's, when it became free. */
    long word2(int page) {
        return Memory.getLong(rec(page) + 16);
    }

    void setWord2(int page, long value) {
        Memory.putLong(rec(page) + 16, value);
    }
}
