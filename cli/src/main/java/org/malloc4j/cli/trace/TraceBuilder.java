package org.malloc4j.cli.trace;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Collects the operations of a trace, checking each against the blocks live so far, and computes the live-byte
 * figures. The trace reader and the workload generators both build through it, so a bundled workload obeys the
 * same rules as a file.
 *
 * <p>Each method throws {@link IllegalArgumentException} with a one-line reason (no file name) when the
 * operation is not allowed; the builder is unchanged then.
 */
public final class TraceBuilder {
    private final String name;
    private final long idLimit;
    private final long firstOpLine;

    private long[] ops;
    private int count;
    private final Map<Integer, Long> bigSizes = new HashMap<>();

    /** Size of each live id; -1 when not live. */
    private long[] liveSize = new long[0];
    /** Index of the op that last allocated or freed each id; -1 when never used. */
    private int[] lastOp = new int[0];
    private int idSpan;
    private long live;
    private long peak;
    private int liveBlocks;

    /**
     * @param name the trace's name in reports
     * @param idLimit ids must be below this ({@link Trace#MAX_IDS} at most)
     * @param expectedOps a capacity hint (the header's op count); the builder grows past it when needed
     * @param firstOpLine the file line of the first op, for messages; 0 for a generated trace (messages say
     *        {@code op N} then)
     */
    public TraceBuilder(String name, long idLimit, long expectedOps, long firstOpLine) {
        this.name = name;
        this.idLimit = Math.min(idLimit, Trace.MAX_IDS);
        this.firstOpLine = firstOpLine;
        this.ops = new long[Math.clamp(expectedOps, 16, 1 << 22)];
    }

    /** Appends {@code a id size}. */
    public void alloc(int id, long size) {
        checkId(id);
        checkSize(size);
        ensureId(id);
        if (liveSize[id] >= 0) {
            throw new IllegalArgumentException("alloc of id " + id + ", which is already live (allocated at "
                    + where(lastOp[id]) + ")");
        }
        append(Trace.ALLOC, id, size);
        liveSize[id] = size;
        lastOp[id] = count - 1;
        liveBlocks++;
        if (id >= idSpan) idSpan = id + 1;
        grow(size);
    }

    /** Appends {@code f id}. */
    public void free(int id) {
        checkLive(id, "free");
        append(Trace.FREE, id, 0);
        live -= liveSize[id];
        liveSize[id] = -1;
        lastOp[id] = count - 1;
        liveBlocks--;
    }

    /** Appends {@code r id size}; a size of 0 is refused (C leaves its meaning open: write a free). */
    public void realloc(int id, long size) {
        checkLive(id, "realloc");
        checkSize(size);
        if (size == 0) {
            throw new IllegalArgumentException("realloc of id " + id + " to 0 bytes (C leaves its result "
                    + "unspecified; write 'f " + id + "')");
        }
        append(Trace.REALLOC, id, size);
        long old = liveSize[id];
        liveSize[id] = size;
        live -= old;
        grow(size);
    }

    /** @return whether {@code id} is live now */
    public boolean isLive(int id) {
        return id >= 0 && id < liveSize.length && liveSize[id] >= 0;
    }

    /** @return the number of operations so far */
    public int count() {
        return count;
    }

    /** @return the sum of the sizes of the live blocks now */
    public long liveBytes() {
        return live;
    }

    /** @return the trace; the builder must not be used afterwards */
    public Trace build() {
        return new Trace(name, ops, count, bigSizes.isEmpty() ? Map.of() : Map.copyOf(bigSizes), idSpan, peak,
                live, liveBlocks, firstOpLine);
    }

    private void grow(long size) {
        live += size;
        if (live < 0) live = Long.MAX_VALUE; // absurd sizes: saturate instead of wrapping
        if (live > peak) peak = live;
    }

    private void append(int kind, int id, long size) {
        if (count == ops.length) {
            if (count >= Trace.MAX_OPS) throw new IllegalArgumentException("more than " + Trace.MAX_OPS + " ops");
            ops = Arrays.copyOf(ops, (int) Math.min(Trace.MAX_OPS, count + (count >> 1) + 16L));
        }
        if (size >= Trace.SIZE_ESCAPE) bigSizes.put(count, size);
        ops[count++] = Trace.encode(kind, id, size);
    }

    private void checkId(int id) {
        if (id < 0 || id >= idLimit) {
            throw new IllegalArgumentException("id " + id + " out of range [0, " + idLimit + ")");
        }
    }

    private static void checkSize(long size) {
        if (size < 0) throw new IllegalArgumentException("negative size " + size);
    }

    private void checkLive(int id, String what) {
        checkId(id);
        if (id >= liveSize.length || liveSize[id] < 0) {
            int last = id < lastOp.length ? lastOp[id] : -1;
            throw new IllegalArgumentException(what + " of id " + id + ", which is not live ("
                    + (last < 0 ? "never allocated" : "freed at " + where(last)) + ")");
        }
    }

    private void ensureId(int id) {
        if (id < liveSize.length) {
            return;
        }
        int old = liveSize.length;
        int n = (int) Math.min(idLimit, Math.max(id + 1L, old * 2L));
        liveSize = Arrays.copyOf(liveSize, n);
        lastOp = Arrays.copyOf(lastOp, n);
        Arrays.fill(liveSize, old, n, -1);
        Arrays.fill(lastOp, old, n, -1);
    }

    private String where(int op) {
        return firstOpLine > 0 ? "line " + (firstOpLine + op) : "op " + (op + 1);
    }
}
