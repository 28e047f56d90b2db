package org.malloc4j.cli.demo;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.malloc4j.Heap;
import org.malloc4j.HeapStats;
import org.malloc4j.cli.report.HtmlReport;

/**
 * Allocation latency against fragmentation, on malloc4j and on {@link NaiveFirstFitHeap}.
 *
 * <p>For each level (a share of the heap's used memory in holes) and each heap, in a fresh heap: allocate blocks of
 * random sizes ({@link Config#minSize} to {@link Config#maxSize}, uniform, fixed seed) until {@link Config#fillBytes}
 * are live; free blocks picked at random until the level's share of those bytes is free (the holes); then run
 * batches. A batch allocates {@link Config#batch} blocks of random sizes from the same distribution, timed as one
 * interval with {@link System#nanoTime} and divided by the batch size, and frees (untimed) the blocks of the batch
 * {@link Config#delay} batches before it. The blocks of the fill that were not freed stay where they are, so the holes
 * they leave stay; the blocks in flight fill some of them for a while, as a program's short-lived blocks do (a first
 * fit heap then splits its holes and leaves slivers), and the level goes back to the one set when they are freed. The
 * first {@link Config#warmupBatches} batches, and more until {@link Config#warmupMillis} have passed, are not
 * recorded (on this 2-core machine a cell of malloc4j records 100,000 batches in about 40 ms, less than the JIT may
 * take to finish compiling); the percentiles are over the recorded batches' ns per malloc. Both heaps get the same
 * fill, the same holes and the same sequence of sizes (the unrecorded prefix may differ in length).
 *
 * <p>Why batches: {@code System.nanoTime} reads a clock of about 20 to 30 ns granularity here and costs about as
 * much, the same order as one malloc4j malloc; timing 16 mallocs as one interval puts the clock's error under 2 ns a
 * malloc. The price: a percentile is of batch means, so one slow malloc in a batch shows divided by the batch size
 * (a 10 us stall shows as 625 ns); the maximum still shows every stall.
 */
public final class LatencyDemo {
    /** The levels measured by default: percent of the used memory in holes. */
    public static final int[] LEVELS = {0, 25, 50, 75, 90};
    /** The target: malloc4j's p99 at the highest level within this factor of its p99 on a fresh heap. */
    public static final double TARGET = 1.5;
    /** The level, percent, at which the issue sets {@link #TARGET}; it is against level 0 (no holes). */
    public static final int TARGET_LEVEL = 90;

    /**
     * What to run.
     *
     * @param fillBytes bytes of live blocks after the fill
     * @param minSize smallest block, inclusive
     * @param maxSize largest block, inclusive
     * @param batch mallocs per timed interval
     * @param delay a batch's blocks are freed (untimed) this many batches after they were allocated
     * @param warmupBatches batches run first and not recorded
     * @param warmupMillis the unrecorded batches go on until they have also taken this long
     * @param batches recorded batches per heap and level
     * @param levels percent of the used memory in holes
     * @param seed seed of the sizes and picks
     */
    public record Config(long fillBytes, int minSize, int maxSize, int batch, int delay, int warmupBatches,
            long warmupMillis, int batches, int[] levels, long seed) {
        /**
         * The default: 64 MiB of 64 B to 4 KiB blocks, 16 mallocs a batch freed 64 batches later (1024 blocks in
         * flight, about 2 MiB, 3% of the fill), 20,000 unrecorded batches and at least a second, then 100,000
         * recorded batches a cell.
         */
        public static Config defaults() {
            return new Config(64L << 20, 64, 4096, 16, 64, 20_000, 1000, 100_000, LEVELS, 0x6d616c6c6f63344aL);
        }

        /** @return this configuration, smaller, for the unrecorded pass that warms the JIT up */
        Config jitWarmup() {
            return new Config(Math.max(1L << 20, fillBytes / 8), minSize, maxSize, batch, delay, 0, 0,
                    Math.max(1, (warmupBatches + batches) / 4), levels, seed);
        }
    }

    /**
     * One heap at one level.
     *
     * @param heap the heap's name
     * @param level the requested share of used memory in holes, percent
     * @param freedShare bytes freed over bytes filled, as set (the requested sizes)
     * @param holesBefore the heap's own measure of its used memory in holes, before the batches
     * @param holesAfter the same at the end of the batches, the last batches' blocks still allocated
     * @param freeExtents free extents of the naive heap at the end of the batches (-1 for malloc4j)
     * @param p50 median ns per malloc
     * @param p99 99th percentile
     * @param p999 99.9th percentile
     * @param max the slowest batch's ns per malloc
     */
    public record Cell(String heap, int level, double freedShare, double holesBefore, double holesAfter,
            long freeExtents, double p50, double p99, double p999, double max) {}

    /** A heap under test. */
    interface Subject extends AutoCloseable {
        String name();

        long malloc(long size);

        void free(long address);

        /** @return the share of the heap's used memory in holes, by the heap's own accounting */
        double holes();

        /** @return free extents, or -1 if the heap does not count them */
        long freeExtents();

        @Override
        void close();
    }

    static final class Naive implements Subject {
        private final NaiveFirstFitHeap h;

        Naive(long size) {
            h = new NaiveFirstFitHeap(size);
        }

        @Override
        public String name() {
            return "naive first-fit";
        }

        @Override
        public long malloc(long size) {
            long p = h.malloc(size);
            if (p < 0) throw new IllegalStateException("naive heap full");
            return p;
        }

        @Override
        public void free(long address) {
            h.free(address);
        }

        @Override
        public double holes() {
            long used = h.usedRange();
            return used == 0 ? 0 : (double) h.holeBytes() / used;
        }

        @Override
        public long freeExtents() {
            return h.freeExtents();
        }

        @Override
        public void close() {}
    }

    static final class Malloc4j implements Subject {
        private final Heap heap = Heap.create();
        private long fullFree = -1;

        @Override
        public String name() {
            return "malloc4j";
        }

        @Override
        public long malloc(long size) {
            return heap.malloc(size);
        }

        @Override
        public void free(long address) {
            heap.free(address);
        }

        /** Marks the end of the fill: the free bytes then (size-class rounding, slab tails) are not holes. */
        void full() {
            fullFree = heap.stats().freeBytes();
        }

        /**
         * @return the committed bytes free beyond those free at the end of the fill, over the committed bytes beyond
         *         those: the share of the memory it uses now in holes (over the bytes that held blocks at the end of
         *         the fill, churn that left more free than the fill read over 100%)
         */
        @Override
        public double holes() {
            HeapStats s = heap.stats();
            long used = s.committedBytes() - fullFree;
            if (fullFree < 0 || used <= 0) return 0;
            return Math.max(0, (double) (s.freeBytes() - fullFree) / used); // at most 1: free <= committed
        }

        @Override
        public long freeExtents() {
            return -1;
        }

        @Override
        public void close() {
            heap.close();
        }
    }

    private LatencyDemo() {}

    /**
     * Runs every level on both heaps, interleaved (malloc4j, naive, malloc4j, ...), after an unrecorded smaller pass
     * over the same levels and an unrecorded pass of the first level (so that the first cells do not measure the JIT
     * compiling both heaps).
     */
    public static List<Cell> run(Config c) {
        runOnce(c.jitWarmup());
        // and the first level once more at full size, discarded: without it the first cell measured (whichever
        // level it is) was 2x slower than the same cell measured later in the same JVM
        runOnce(new Config(c.fillBytes(), c.minSize(), c.maxSize(), c.batch(), c.delay(), c.warmupBatches(),
                c.warmupMillis(), c.batches(), new int[] {c.levels()[0]}, c.seed()));
        settle();
        return runOnce(c);
    }

    /** Lets the JIT's background compilations finish and collects the naive heap's garbage, before measuring. */
    private static void settle() {
        System.gc();
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static List<Cell> runOnce(Config c) {
        List<Cell> cells = new ArrayList<>();
        for (int level : c.levels()) {
            try (Malloc4j m = new Malloc4j()) {
                cells.add(measure(m, level, c));
            }
            try (Naive n = new Naive(naiveHeapBytes(c))) {
                cells.add(measure(n, level, c));
            }
            System.gc(); // not inside the next cell's batches: the naive heap makes garbage (extents, map entries)
        }
        return cells;
    }

    /**
     * The naive heap's size: twice the fill and the blocks in flight at their largest ({@code batch} times
     * {@code delay} of {@code maxSize}), and 16 MiB. It manages offsets only (no memory behind them), so room costs
     * nothing; sized for the fill alone, accepted options (a batch of 16 with a delay of 1,024) filled it, and the demo
     * stopped with an internal error.
     */
    static long naiveHeapBytes(Config c) {
        return 2 * (c.fillBytes() + (long) c.batch() * c.delay() * c.maxSize()) + (16L << 20);
    }

    static Cell measure(Subject s, int level, Config c) {
        SplittableRandom random = new SplittableRandom(c.seed());
        int cap = (int) (c.fillBytes() / c.minSize()) + 1;
        long[] sizes = new long[cap];
        int n = 0;
        long filled = 0;
        while (filled < c.fillBytes()) {
            long size = random.nextInt(c.minSize(), c.maxSize() + 1);
            sizes[n++] = size;
            filled += size;
        }
        sizes = Arrays.copyOf(sizes, n);
        long[] addr = new long[n];
        for (int i = 0; i < n; i++) addr[i] = s.malloc(sizes[i]);
        if (s instanceof Malloc4j m) m.full();

        // free a random share: live[0, nLive) are the live blocks' indices
        int[] live = new int[n];
        for (int i = 0; i < n; i++) live[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = live[i];
            live[i] = live[j];
            live[j] = t;
        }
        long target = (long) (filled * (level / 100.0));
        long freed = 0;
        int nLive = n;
        while (freed < target && nLive > 0) {
            int i = live[--nLive];
            s.free(addr[i]);
            freed += sizes[i];
        }
        double holesBefore = s.holes();

        int b = c.batch(), d = c.delay();
        long[] ring = new long[b * d]; // the last d batches' blocks, freed d batches after their malloc
        long[] batchSize = new long[b];
        long[] samples = new long[c.batches()];
        long warmupEnd = System.nanoTime() + c.warmupMillis() * 1_000_000L;
        int warm = 0; // unrecorded batches run
        int total = Integer.MAX_VALUE;
        for (int k = 0; k < total; k++) {
            int base = (k % d) * b;
            if (k >= d) {
                for (int j = 0; j < b; j++) s.free(ring[base + j]); // untimed: the batch of d batches ago
            }
            for (int j = 0; j < b; j++) batchSize[j] = random.nextInt(c.minSize(), c.maxSize() + 1);
            long t0 = System.nanoTime();
            for (int j = 0; j < b; j++) ring[base + j] = s.malloc(batchSize[j]);
            long t1 = System.nanoTime();
            if (total != Integer.MAX_VALUE) {
                samples[k - warm] = t1 - t0;
            } else if (k + 1 >= c.warmupBatches() && t1 - warmupEnd >= 0) {
                warm = k + 1;
                total = warm + c.batches();
            }
        }
        double holesAfter = s.holes();
        long extents = s.freeExtents();
        for (int k = Math.max(0, total - d); k < total; k++) {
            int base = (k % d) * b;
            for (int j = 0; j < b; j++) s.free(ring[base + j]);
        }
        Arrays.sort(samples);
        return new Cell(s.name(), level, (double) freed / filled, holesBefore, holesAfter, extents,
                pct(samples, 0.50) / b, pct(samples, 0.99) / b, pct(samples, 0.999) / b,
                samples[samples.length - 1] / (double) b);
    }

    /** Nearest-rank percentile of sorted samples. */
    static double pct(long[] sorted, double q) {
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    /** Median of each cell's figures over several runs of the same configuration (same order of cells). */
    public static List<Cell> median(List<List<Cell>> runs) {
        List<Cell> out = new ArrayList<>();
        for (int i = 0; i < runs.get(0).size(); i++) {
            final int k = i;
            Cell f = runs.get(0).get(i);
            // The freed share is the same in every run (same seed, same fill); the free extents are not (they
            // depend on the number of unrecorded batches, which a time sets), and the table says "median" of all
            out.add(new Cell(f.heap(), f.level(), f.freedShare(), med(runs, k, Cell::holesBefore),
                    med(runs, k, Cell::holesAfter), Math.round(med(runs, k, Cell::freeExtents)),
                    med(runs, k, Cell::p50), med(runs, k, Cell::p99),
                    med(runs, k, Cell::p999), med(runs, k, Cell::max)));
        }
        return out;
    }

    private static double med(List<List<Cell>> runs, int k, java.util.function.ToDoubleFunction<Cell> f) {
        double[] v = runs.stream().mapToDouble(r -> f.applyAsDouble(r.get(k))).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** @return p99 at the highest level over p99 at the lowest, for {@code heap} */
    public static double p99Ratio(List<Cell> cells, String heap) {
        Cell lo = null, hi = null;
        for (Cell x : cells) {
            if (!x.heap().equals(heap)) continue;
            if (lo == null || x.level() < lo.level()) lo = x;
            if (hi == null || x.level() > hi.level()) hi = x;
        }
        return hi.p99() / lo.p99();
    }

    /** Prints the table, and the p99 ratios. */
    public static void print(List<Cell> cells, Config c, int runs, PrintWriter out) {
        out.printf(Locale.ROOT, "Allocation latency against fragmentation: %s of %d B to %s blocks (uniform, seed %#x),"
                + " then a share of them freed at random.%n", HtmlReport.human(c.fillBytes()), c.minSize(),
                HtmlReport.human(c.maxSize()), c.seed());
        out.printf(Locale.ROOT, "Each batch mallocs %d random sizes from the same distribution (timed together) and"
                + " frees (untimed) the blocks of the batch %d before; %,d batches recorded after at least %,d"
                + " unrecorded and %,d ms.%n", c.batch(), c.delay(), c.batches(), c.warmupBatches(), c.warmupMillis());
        out.printf(Locale.ROOT, "ns per malloc = batch time / %d; %s.%n", c.batch(),
                runs > 1 ? "every figure is the median of " + runs + " runs" : "one run");
        out.printf(Locale.ROOT, "%-6s %-16s %7s %8s %7s %9s %9s %9s %10s %10s%n", "holes", "heap", "freed", "before",
                "after", "extents", "p50 ns", "p99 ns", "p99.9 ns", "max ns");
        for (Cell x : cells) {
            out.printf(Locale.ROOT, "%-6s %-16s %6.1f%% %7.1f%% %6.1f%% %9s %9.1f %9.1f %9.1f %10.1f%n",
                    x.level() + "%", x.heap(), 100 * x.freedShare(), 100 * x.holesBefore(), 100 * x.holesAfter(),
                    x.freeExtents() < 0 ? "-" : Long.toString(x.freeExtents()), x.p50(), x.p99(), x.p999(), x.max());
        }
        int lo = Arrays.stream(c.levels()).min().orElse(0), hi = Arrays.stream(c.levels()).max().orElse(0);
        double m = p99Ratio(cells, "malloc4j");
        // The target sets the p99 at 90% of the memory in holes against a heap with none: judged only where both were
        // measured (--levels 90 alone read "p99 at 90% / p99 at 90%: 1.00 ... MET", a ratio of a level to itself)
        String verdict = lo == 0 && hi >= TARGET_LEVEL
                ? String.format(Locale.ROOT, "target: at most %.1f) %s", TARGET, m <= TARGET ? "MET" : "NOT MET")
                : String.format(Locale.ROOT, "the target, at most %.1f at %d%% or more against 0%%, needs both levels:"
                        + " not judged)", TARGET, TARGET_LEVEL);
        out.printf(Locale.ROOT, "malloc4j p99 at %d%% / p99 at %d%%: %.2f (%s%n", hi, lo, m, verdict);
        out.printf(Locale.ROOT, "naive first-fit p99 at %d%% / p99 at %d%%: %.2f%n", hi, lo,
                p99Ratio(cells, "naive first-fit"));
        out.println("freed: bytes freed over bytes filled (the sizes asked for). before, after: the share of the used"
                + " memory in holes by the heap's own accounting, once the level was set and at the end of the batches"
                + " (the last batches' blocks still allocated); naive: free bytes below the end of its last block over"
                + " that end; malloc4j: committed bytes free beyond those free when the fill ended, over the committed"
                + " bytes beyond those. extents: the naive heap's free extents at the end.");
        out.flush();
    }
}
