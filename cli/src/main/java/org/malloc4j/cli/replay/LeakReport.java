package org.malloc4j.cli.replay;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.malloc4j.cli.trace.Trace;

/**
 * The blocks a trace leaves live at its end ({@code replay --leaks}), grouped so that a person can act on them:
 * by the power-of-two bucket of the block's size at the end ({@code [0, 16 B]}, {@code (16 B, 32 B]},
 * {@code (32 B, 64 B]}...), the same buckets for every allocator. Groups come largest first (by bytes, then by
 * blocks), at most {@link #MAX_GROUPS}; the rest are summed in {@link #moreGroups()} and its figures. Each group
 * gives its {@link #EXAMPLES} earliest-allocated blocks, each with its allocation site: the trace operation that
 * allocated it (and the last realloc that resized it, if any).
 *
 * @param blocks live blocks at the end of the trace
 * @param bytes their bytes (the sizes the trace asked for)
 * @param heapLiveBlocks malloc4j's own count of live blocks at the same point ({@code mallocCount - freeCount});
 *        -1 for an allocator that does not say
 * @param groups the largest groups, largest first
 * @param moreGroups how many groups are left out of {@code groups}
 * @param moreBlocks blocks in the groups left out
 * @param moreBytes bytes in the groups left out
 */
public record LeakReport(long blocks, long bytes, long heapLiveBlocks, List<Group> groups, int moreGroups,
        long moreBlocks, long moreBytes) {
    /** Groups listed at most. */
    public static final int MAX_GROUPS = 20;
    /** Examples listed per group at most. */
    public static final int EXAMPLES = 3;
    /** Sizes up to this are in the first bucket. */
    private static final int SMALLEST = 16;
    private static final int BUCKETS = 64;

    /**
     * A size bucket's live blocks.
     *
     * @param minSize the smallest size in the bucket (inclusive)
     * @param maxSize the largest size in the bucket (inclusive)
     * @param blocks live blocks in it
     * @param bytes their bytes
     * @param examples the earliest-allocated of them, at most {@link #EXAMPLES}
     */
    public record Group(long minSize, long maxSize, long blocks, long bytes, List<Example> examples) {
        /** @return {@code [0, 16 B]}, {@code (16 B, 32 B]}, {@code (2 KiB, 4 KiB]} */
        public String label() {
            return minSize == 0 ? "[0, " + pow2(maxSize) + "]" : "(" + pow2(minSize - 1) + ", " + pow2(maxSize) + "]";
        }
    }

    /**
     * One live block and where the trace allocated it.
     *
     * @param id the block's id in the trace
     * @param op the 1-based index of the operation that allocated it (an {@code a}, or an {@code r} that had to
     *        allocate anew because the allocator failed the block earlier)
     * @param line that operation's line in the trace file; -1 for a generated trace
     * @param reallocOp the 1-based index of the last {@code r} that resized it; -1 when none
     * @param reallocLine that operation's line in the trace file; -1 when none or for a generated trace
     * @param size its size at the end
     */
    public record Example(int id, int op, long line, int reallocOp, long reallocLine, long size) {
        /** @return {@code id 7 at line 12 (op 8), resized at line 30 (op 26): 4096 B} */
        public String describe() {
            StringBuilder sb = new StringBuilder("id ").append(id).append(" at ").append(where(op, line));
            if (reallocOp > 0) sb.append(", resized at ").append(where(reallocOp, reallocLine));
            return sb.append(": ").append(size).append(" B").toString();
        }

        private static String where(int op, long line) {
            return line > 0 ? "line " + line + " (op " + op + ")" : "op " + op;
        }
    }

    /** @return whether the trace leaves nothing live */
    public boolean none() {
        return blocks == 0;
    }

    /**
     * Builds the report from the live blocks of a checked pass.
     *
     * @param trace the trace replayed
     * @param size each id's size at the end; -1 when not live
     * @param site the index of the op that allocated each live id
     * @param resized the index of the last realloc of each live id; -1 when none
     * @param heapLiveBlocks the allocator's own live-block count, -1 when unknown
     */
    static LeakReport of(Trace trace, long[] size, int[] site, int[] resized, long heapLiveBlocks) {
        long[] count = new long[BUCKETS];
        long[] bytes = new long[BUCKETS];
        int[][] oldest = new int[BUCKETS][];
        int[] kept = new int[BUCKETS];
        long blocks = 0;
        long total = 0;
        for (int id = 0; id < size.length; id++) {
            long s = size[id];
            if (s < 0) continue;
            int b = bucket(s);
            blocks++;
            total = saturatedAdd(total, s);
            count[b]++;
            bytes[b] = saturatedAdd(bytes[b], s);
            if (oldest[b] == null) oldest[b] = new int[EXAMPLES];
            keepOldest(oldest[b], kept, b, id, site);
        }
        List<Group> all = new ArrayList<>();
        for (int b = 0; b < BUCKETS; b++) {
            if (count[b] == 0) continue;
            List<Example> examples = new ArrayList<>(kept[b]);
            for (int k = 0; k < kept[b]; k++) {
                int id = oldest[b][k];
                int r = resized[id];
                examples.add(new Example(id, site[id] + 1, trace.line(site[id]), r < 0 ? -1 : r + 1,
                        r < 0 ? -1 : trace.line(r), size[id]));
            }
            all.add(new Group(b == 0 ? 0 : upper(b - 1) + 1, upper(b), count[b], bytes[b], List.copyOf(examples)));
        }
        all.sort(Comparator.comparingLong(Group::bytes).reversed().thenComparing(Comparator.comparingLong(
                Group::blocks).reversed()).thenComparingLong(Group::minSize));
        List<Group> shown = List.copyOf(all.subList(0, Math.min(MAX_GROUPS, all.size())));
        long moreBlocks = 0;
        long moreBytes = 0;
        for (Group g : all.subList(shown.size(), all.size())) {
            moreBlocks += g.blocks();
            moreBytes = saturatedAdd(moreBytes, g.bytes());
        }
        return new LeakReport(blocks, total, heapLiveBlocks, shown, all.size() - shown.size(), moreBlocks,
                moreBytes);
    }

    /** Keeps in {@code oldest[0 .. kept[b])} the ids with the smallest sites, in order of site. */
    private static void keepOldest(int[] oldest, int[] kept, int b, int id, int[] site) {
        int n = kept[b];
        if (n == EXAMPLES && site[oldest[n - 1]] <= site[id]) return;
        int k = n == EXAMPLES ? n - 1 : n;
        while (k > 0 && site[oldest[k - 1]] > site[id]) {
            oldest[k] = oldest[k - 1];
            k--;
        }
        oldest[k] = id;
        if (n < EXAMPLES) kept[b] = n + 1;
    }

    /** @return the bucket of a block of {@code size} bytes: 0 up to 16 B, then one per power of two */
    static int bucket(long size) {
        if (size <= SMALLEST) return 0;
        int bits = 64 - Long.numberOfLeadingZeros(size - 1); // size <= 2^bits
        return bits - 4;
    }

    /** @return the largest size in bucket {@code b} */
    private static long upper(int b) {
        int bits = b + 4;
        return bits >= 63 ? Long.MAX_VALUE : 1L << bits;
    }

    private static long saturatedAdd(long a, long b) {
        long s = a + b;
        return s < 0 ? Long.MAX_VALUE : s;
    }

    /** @return a power of two (or {@code Long.MAX_VALUE}) as {@code 16 B}, {@code 4 KiB}, {@code 2 MiB} */
    private static String pow2(long v) {
        if (v == Long.MAX_VALUE) return "8 EiB";
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        int u = 0;
        while (v >= 1024 && v % 1024 == 0 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return v + " " + units[u];
    }
}
