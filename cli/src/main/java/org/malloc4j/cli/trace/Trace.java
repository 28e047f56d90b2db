package org.malloc4j.cli.trace;

import java.util.Map;

/**
 * An allocation trace held in memory as one {@code long} per operation (8 bytes an op, no objects), so that a
 * trace of millions of operations replays from a flat array. Built and validated by {@link TraceBuilder}:
 * every free and realloc names a live id, every alloc a free one, ids are in {@code [0, idSpan())}.
 *
 * <p>Encoding of one operation: bits 62-63 the kind ({@link #ALLOC}, {@link #FREE}, {@link #REALLOC}), bits
 * 32-61 the id, bits 0-31 the size in bytes; a size of {@code 2^32 - 1} or more is kept aside in a small map.
 */
public final class Trace {
    /** Kind of an {@code a <id> <bytes>} operation. */
    public static final int ALLOC = 0;
    /** Kind of an {@code f <id>} operation. */
    public static final int FREE = 1;
    /** Kind of an {@code r <id> <bytes>} operation. */
    public static final int REALLOC = 2;
    /** Ids must be below this. */
    public static final int MAX_IDS = 1 << 30;
    /** Operations must be fewer than this (the length of a Java array). */
    public static final int MAX_OPS = Integer.MAX_VALUE - 16;

    static final long SIZE_ESCAPE = 0xFFFF_FFFFL;

    private final String name;
    private final long[] ops;
    private final int count;
    private final Map<Integer, Long> bigSizes;
    private final int idSpan;
    private final long peakLiveBytes;
    private final long finalLiveBytes;
    private final int finalLiveBlocks;
    private final long firstOpLine;

    Trace(String name, long[] ops, int count, Map<Integer, Long> bigSizes, int idSpan, long peakLiveBytes,
            long finalLiveBytes, int finalLiveBlocks, long firstOpLine) {
        this.name = name;
        this.ops = ops;
        this.count = count;
        this.bigSizes = bigSizes;
        this.idSpan = idSpan;
        this.peakLiveBytes = peakLiveBytes;
        this.finalLiveBytes = finalLiveBytes;
        this.finalLiveBlocks = finalLiveBlocks;
        this.firstOpLine = firstOpLine;
    }

    static long encode(int kind, int id, long size) {
        long s = size >= SIZE_ESCAPE ? SIZE_ESCAPE : size;
        return ((long) kind << 62) | ((long) id << 32) | s;
    }

    /** @return the name used in reports: the file name without {@code .rep[.gz]}, or the workload's name */
    public String name() {
        return name;
    }

    /** @return the number of operations */
    public int size() {
        return count;
    }

    /** @return the kind of operation {@code i}: {@link #ALLOC}, {@link #FREE} or {@link #REALLOC} */
    public int kind(int i) {
        return (int) (ops[i] >>> 62);
    }

    /** @return the block id of operation {@code i} */
    public int id(int i) {
        return (int) (ops[i] >>> 32) & (MAX_IDS - 1);
    }

    /** @return the size in bytes of operation {@code i} (0 for a free) */
    public long size(int i) {
        long s = ops[i] & SIZE_ESCAPE;
        return s != SIZE_ESCAPE ? s : bigSizes.get(i);
    }

    /** @return one more than the largest id used: arrays indexed by id need this many slots */
    public int idSpan() {
        return idSpan;
    }

    /** @return the largest sum of the sizes of the blocks live at one time */
    public long peakLiveBytes() {
        return peakLiveBytes;
    }

    /** @return the sum of the sizes of the blocks still live after the last operation */
    public long finalLiveBytes() {
        return finalLiveBytes;
    }

    /** @return the number of blocks still live after the last operation */
    public int finalLiveBlocks() {
        return finalLiveBlocks;
    }

    /** @return the line of operation {@code i} in the trace file; -1 for a generated trace */
    public long line(int i) {
        return firstOpLine > 0 ? firstOpLine + i : -1;
    }

    /** @return where operation {@code i} comes from, for messages: {@code line N} for a file, else {@code op N} */
    public String where(int i) {
        return firstOpLine > 0 ? "line " + (firstOpLine + i) : "op " + (i + 1);
    }

    /** @return operation {@code i} as a trace line: {@code a 5 100}, {@code f 5}, {@code r 5 200} */
    public String describe(int i) {
        return switch (kind(i)) {
            case ALLOC -> "a " + id(i) + " " + size(i);
            case FREE -> "f " + id(i);
            default -> "r " + id(i) + " " + size(i);
        };
    }

    /** @return whether {@code other} has the same operations in the same order */
    public boolean sameOpsAs(Trace other) {
        if (other.count != count) return false;
        for (int i = 0; i < count; i++) {
            if (other.kind(i) != kind(i) || other.id(i) != id(i) || other.size(i) != size(i)) return false;
        }
        return true;
    }

    @Override
    public String toString() {
        return "Trace[" + name + ", " + count + " ops, " + idSpan + " ids, peak live " + peakLiveBytes + " B]";
    }
}
