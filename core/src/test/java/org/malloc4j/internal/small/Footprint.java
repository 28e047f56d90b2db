package org.malloc4j.internal.small;

import java.lang.reflect.Field;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.malloc4j.Heap;
import org.malloc4j.internal.HeapCore;
import org.malloc4j.internal.page.PageHeap;

/**
 * Where a heap's committed bytes are, taken apart while its threads are quiescent: the live bytes the program asked
 * for, rounding, the free blocks of slabs in use, the empty slabs the caches keep (spares, medium stacks, empty current
 * slabs), blocks other threads freed that their owner has not collected, the slabs of dead threads not yet adopted,
 * and the free dirty page runs waiting for their decay time. The parts add up to the page layer's committed bytes.
 * For tests and the footprint scenario; reads internals by reflection.
 */
public final class Footprint {
    /** The rows, in print order. */
    public static final String LIVE = "live (requested)", ROUNDING = "rounding of live blocks",
            PARTIAL = "free blocks in part-used slabs", EMPTY_CURRENT = "empty current slabs",
            SPARES = "spare list (empty slabs)", MEDIUM = "medium stacks (empty)",
            REMOTE = "remote frees not collected",
            REMOTE_STRIPE = "  of which in stripes' slabs", DEAD = "dead threads' caches (not adopted)",
            DIRTY = "free dirty runs (decay)", TAILS = "slab tails";
    private static final String[] ROWS = {LIVE, ROUNDING, PARTIAL, EMPTY_CURRENT, SPARES, MEDIUM, REMOTE, REMOTE_STRIPE,
        DEAD, DIRTY, TAILS};

    /** Bytes per row, in print order. */
    public final Map<String, Long> bytes = new LinkedHashMap<>();
    /** The page layer's committed bytes; the rows add up to it. */
    public final long committed;
    /** Caches (stripes included), and the most bytes of spares and medium stacks one cache held. */
    public final int caches;
    public final long maxCacheSpares;
    /** Free dirty runs: how many, and the largest. */
    public final int dirtyRuns;
    public final long largestDirtyRun;

    private Footprint(Heap heap) throws ReflectiveOperationException {
        for (String r : ROWS) bytes.put(r, 0L);
        HeapCore core = (HeapCore) field(heap, Heap.class, "core");
        ThreadCaches tc = (ThreadCaches) field(core, HeapCore.class, "caches");
        PageHeap pages = (PageHeap) field(core, HeapCore.class, "pages");
        LocalHeap[] all = tc.all();
        caches = all.length;
        long maxSpares = 0;
        for (LocalHeap c : all) {
            boolean dead = c.thread != null && !c.thread.isAlive();
            maxSpares = Math.max(maxSpares, (long) field(c, LocalHeap.class, "spareBytes"));
            Map<Slab, Boolean> stacked = new IdentityHashMap<>();
            for (Slab s : (Slab[]) field(c, LocalHeap.class, "mediumStacks")) if (s != null) stacked.put(s, true);
            for (Slab s = (Slab) field(c, LocalHeap.class, "owned"); s != null; s = s.nextOwned) {
                slab(s, dead, stacked.containsKey(s));
            }
        }
        maxCacheSpares = maxSpares;
        int runs = 0;
        long largest = 0;
        for (PageHeap.RunInfo r : pages.runs()) {
            long b = r.pages() << PageHeap.PAGE_SHIFT;
            if (r.state() == PageHeap.RUN_BLOCK) {
                add(LIVE, r.requested());
                add(ROUNDING, b - r.requested());
            } else if (r.state() == PageHeap.RUN_DIRTY) {
                add(DIRTY, b);
                runs++;
                largest = Math.max(largest, b);
            }
        }
        dirtyRuns = runs;
        largestDirtyRun = largest;
        committed = pages.committedBytes();
    }

    private void slab(Slab s, boolean deadOwner, boolean medium) {
        long local = 0, remote = 0;
        for (int w = 0; w < s.words; w++) {
            int n = Math.min(64, s.capacity - (w << 6));
            long mask = n == 64 ? -1L : (1L << n) - 1;
            long r = s.bits[2 * w + 1] & mask, f = s.bits[2 * w] & mask;
            remote += Long.bitCount(r & ~f);
            local += Long.bitCount(f);
        }
        long requested = s.requestedBytes();
        int live = s.liveBlocks();
        add(LIVE, requested);
        add(ROUNDING, (long) live * s.blockSize - requested);
        add(REMOTE, remote * s.blockSize);
        if (s.owner.thread == null) add(REMOTE_STRIPE, remote * s.blockSize);
        add(TAILS, s.bytes() - s.span);
        long free = local * s.blockSize;
        String where;
        if (deadOwner) where = DEAD;
        else if (s.spare) where = SPARES;
        else if (medium) where = MEDIUM;
        else if (s.isCurrent && live == 0 && remote == 0) where = EMPTY_CURRENT;
        else where = PARTIAL;
        add(where, free);
    }

    private void add(String row, long b) {
        bytes.merge(row, b, Long::sum);
    }

    /** @return the breakdown of {@code heap}'s committed bytes now (its threads should be quiescent) */
    public static Footprint of(Heap heap) {
        try {
            return new Footprint(heap);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return the sum of the rows: equal to {@link #committed} when the threads were quiescent */
    public long sum() {
        long t = 0;
        for (var e : bytes.entrySet()) if (!e.getKey().equals(REMOTE_STRIPE)) t += e.getValue();
        return t;
    }

    /** @return the table, one row a line: bytes in KiB and as a multiple of the live bytes */
    public String table() {
        StringBuilder sb = new StringBuilder();
        long live = Math.max(1, bytes.get(LIVE));
        for (var e : bytes.entrySet()) {
            sb.append(String.format("  %-38s %10d KiB %6.3f x live%n", e.getKey(), e.getValue() >> 10,
                    (double) e.getValue() / live));
        }
        sb.append(String.format("  %-38s %10d KiB %6.3f x live (sum %d KiB)%n", "committed", committed >> 10,
                (double) committed / live, sum() >> 10));
        sb.append(String.format("  caches %d, max spares+stacks of one cache %d KiB, dirty runs %d (largest %d KiB)%n",
                caches, maxCacheSpares >> 10, dirtyRuns, largestDirtyRun >> 10));
        return sb.toString();
    }

    private static Object field(Object o, Class<?> c, String name) throws ReflectiveOperationException {
        Field f = c.getDeclaredField(name);
        f.setAccessible(true);
        return f.get(o);
    }
}
