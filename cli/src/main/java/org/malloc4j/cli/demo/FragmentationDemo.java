package org.malloc4j.cli.demo;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.LongConsumer;
import java.util.function.LongUnaryOperator;
import org.malloc4j.Heap;
import org.malloc4j.HeapExhaustedException;
import org.malloc4j.HeapStats;
import org.malloc4j.cli.report.HtmlReport;
import org.malloc4j.cli.report.ReportPass;

/**
 * The seed's symptom: fill a heap with 64 KiB blocks, free every other one (half the memory free, in holes), then
 * ask for a block larger than any hole. Run on malloc4j and on {@link NaiveFirstFitHeap} of the same size.
 */
public final class FragmentationDemo {
    /** The naive heap's size. */
    public static final long HEAP = 64L << 20;
    /** The blocks' size, and so the holes'. */
    public static final long BLOCK = 64L << 10;
    /** Left free at the end of the naive range, so probes still fit after the holes. */
    public static final long TAIL = 4L << 20;
    /** The large request: larger than every free extent of the naive heap, smaller than its free bytes. */
    public static final long LARGE = 8L << 20;
    /** Size of the probe allocations that are timed: larger than a hole, so first fit must skip every hole. */
    public static final long PROBE = 128L << 10;
    /** Probes allocated per timed interval (then freed, untimed). */
    static final int BATCH = 16;
    /** Timed intervals per step; the step's figure is their median. */
    static final int ROUNDS = 300;
    /** Holes made before each timing step: every other block freed, from the start of the range. */
    static final int[] HOLE_STEPS = {0, 30, 60, 120, 240, 360, 480};

    /**
     * What one heap did.
     *
     * @param heapBytes the heap's size: the naive heap's range, malloc4j's limit on committed bytes (the same)
     */
    public record Outcome(String heap, long heapBytes, long freeBytes, long largestFreeExtent, boolean largeSucceeded,
            long[] holes, double[] nsPerMalloc) {}

    /** Both heaps' outcomes. */
    public record Result(Outcome malloc4j, Outcome naive) {}

    private FragmentationDemo() {}

    /** Runs the demo, and adds malloc4j's heap map to {@code report} if it is not null. */
    public static Result run(HtmlReport report) {
        warmUp();
        int blocks = (int) ((HEAP - TAIL) / BLOCK);
        long[] holes = new long[HOLE_STEPS.length];
        double[] naiveNs = new double[HOLE_STEPS.length];
        double[] m4jNs = new double[HOLE_STEPS.length];

        NaiveFirstFitHeap naive = new NaiveFirstFitHeap(HEAP);
        long[] nb = new long[blocks];
        for (int i = 0; i < blocks; i++) nb[i] = naive.malloc(BLOCK);
        int freed = 0;
        for (int s = 0; s < HOLE_STEPS.length; s++) {
            while (freed < HOLE_STEPS[s]) naive.free(nb[2 * freed++]);
            holes[s] = freed;
            naiveNs[s] = time(naive::malloc, naive::free);
        }
        boolean naiveLarge = naive.malloc(LARGE) >= 0;
        Outcome n = new Outcome("naive first-fit", naive.size(), naive.freeBytes(), naive.largestFreeExtent(),
                naiveLarge, holes, naiveNs);

        Outcome m;
        // The same size as the naive heap: its limit caps malloc4j's committed bytes (its bookkeeping lies on the Java
        // heap, and 64 KiB blocks need no page rounding). A margin over it made the two heaps not comparable
        try (Heap heap = Heap.builder().limit(HEAP).build()) {
            long[] mb = new long[blocks];
            // The page's timeline (issue: the demo's page has one as a replay's has): the heap's figures after each
            // step, against the demo's own mallocs and frees of blocks (the timed probes not counted)
            String timeline = report == null ? null : report.timelineName("malloc4j");
            long op = 0;
            sample(report, timeline, op, heap);
            for (int i = 0; i < blocks; i++) {
                mb[i] = heap.malloc(BLOCK);
                ReportPass.touch(mb[i], BLOCK); // a program uses its blocks: the timeline's resident bytes show them
                if (++op % 16 == 0) sample(report, timeline, op, heap);
            }
            if (report != null) report.snapshot("malloc4j: heap full", heap.snapshot());
            freed = 0;
            for (int s = 0; s < HOLE_STEPS.length; s++) {
                while (freed < HOLE_STEPS[s]) {
                    heap.free(mb[2 * freed++]);
                    if (++op % 16 == 0) sample(report, timeline, op, heap);
                }
                m4jNs[s] = time(heap::malloc, heap::free);
                sample(report, timeline, op, heap);
            }
            if (report != null) report.snapshot("malloc4j: every other block freed", heap.snapshot());
            HeapStats before = heap.stats();
            boolean ok = largeRequest(heap, LARGE);
            sample(report, timeline, ++op, heap);
            if (report != null) report.snapshot("malloc4j: after the large request", heap.snapshot());
            m = new Outcome("malloc4j", HEAP, before.freeBytes(), before.largestFreeBlock(), ok, holes, m4jNs);
        }
        return new Result(m, n);
    }

    /**
     * Asks {@code heap} for a block of {@code bytes} and writes it.
     *
     * @return whether the heap gave it; false when the heap refuses (its limit or the OS), which the demo prints
     */
    static boolean largeRequest(Heap heap, long bytes) {
        try {
            ReportPass.touch(heap.malloc(bytes), bytes);
            return true;
        } catch (HeapExhaustedException e) { // an OutOfMemoryError, not a RuntimeException
            return false;
        }
    }

    /** Adds the heap's figures now to the page's timeline, as after {@code op} operations; nothing without a page. */
    private static void sample(HtmlReport report, String timeline, long op, Heap heap) {
        if (report == null) return;
        HeapStats s = heap.stats();
        report.sample(timeline, op, s.liveBytes(), s.committedBytes(), s.retainedBytes(), s.residentBytes());
    }

    /**
     * Times {@link #BATCH} mallocs of {@link #PROBE} bytes as one interval (a single malloc4j malloc is near the
     * clock's granularity), frees them untimed, {@link #ROUNDS} times.
     *
     * @return the median interval over {@link #BATCH}: ns per malloc
     */
    private static double time(LongUnaryOperator malloc, LongConsumer free) {
        long[] p = new long[BATCH];
        long[] t = new long[ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < BATCH; i++) p[i] = malloc.applyAsLong(PROBE);
            t[r] = System.nanoTime() - t0;
            for (int i = BATCH - 1; i >= 0; i--) {
                if (p[i] < 0) throw new IllegalStateException("probe failed");
                free.accept(p[i]);
            }
        }
        Arrays.sort(t);
        return t[ROUNDS / 2] / (double) BATCH;
    }

    /** Runs the timing on scratch heaps first, so that the first step does not time the JIT compiling them. */
    private static void warmUp() {
        int blocks = (int) ((HEAP - TAIL) / BLOCK);
        for (int round = 0; round < 3; round++) {
            NaiveFirstFitHeap naive = new NaiveFirstFitHeap(HEAP);
            for (int i = 0; i < blocks; i++) naive.malloc(BLOCK);
            for (int k = 0; k < 5; k++) time(naive::malloc, naive::free); // no holes, then some: both profiles
            for (int i = 0; i < 120; i++) naive.free(2L * i * BLOCK);
            for (int k = 0; k < 10; k++) time(naive::malloc, naive::free);
            try (Heap heap = Heap.builder().limit(HEAP).build()) {
                long[] mb = new long[blocks];
                for (int i = 0; i < blocks; i++) mb[i] = heap.malloc(BLOCK);
                for (int k = 0; k < 5; k++) time(heap::malloc, heap::free);
                for (int i = 0; i < 120; i++) heap.free(mb[2 * i]);
                for (int k = 0; k < 10; k++) time(heap::malloc, heap::free);
            }
        }
    }

    /** Prints the side-by-side comparison. */
    public static void print(Result r, PrintWriter out) {
        out.printf("Fragmentation demo: %s heap filled with %s blocks, every other one freed, then one %s request.%n",
                HtmlReport.human(HEAP), HtmlReport.human(BLOCK), HtmlReport.human(LARGE));
        out.printf("%-34s %18s %18s%n", "", "malloc4j", "naive first-fit");
        out.printf("%-34s %18s %18s%n", "heap size", HtmlReport.human(r.malloc4j().heapBytes()),
                HtmlReport.human(r.naive().heapBytes()));
        out.printf("%-34s %18s %18s%n", "free bytes", HtmlReport.human(r.malloc4j().freeBytes()),
                HtmlReport.human(r.naive().freeBytes()));
        out.printf("%-34s %18s %18s%n", "largest free extent", HtmlReport.human(r.malloc4j().largestFreeExtent()),
                HtmlReport.human(r.naive().largestFreeExtent()));
        out.printf("%-34s %18s %18s%n", HtmlReport.human(LARGE) + " request",
                r.malloc4j().largeSucceeded() ? "succeeded" : "FAILED",
                r.naive().largeSucceeded() ? "succeeded" : "FAILED");
        out.println();
        out.printf("Time per allocation as holes accumulate: median ns per malloc(%s) (larger than any hole),%n",
                HtmlReport.human(PROBE));
        out.printf("%d timed at a time, then freed; in brackets, the time over the time with no holes.%n", BATCH);
        double m0 = r.malloc4j().nsPerMalloc()[0], n0 = r.naive().nsPerMalloc()[0];
        for (int s = 0; s < r.naive().holes().length; s++) {
            double m = r.malloc4j().nsPerMalloc()[s], n = r.naive().nsPerMalloc()[s];
            out.printf(Locale.ROOT, "%-34s %18s %18s%n", r.naive().holes()[s] + " holes",
                    String.format(Locale.ROOT, "%.0f (%.1fx)", m, m / m0),
                    String.format(Locale.ROOT, "%.0f (%.1fx)", n, n / n0));
        }
        out.println();
        out.println("Why: the naive heap is one contiguous range; its free memory is scattered in holes, none large");
        out.println("enough, and first fit walks every hole on each request. malloc4j reserves virtual address space:");
        out.println("a large block only has to be contiguous in virtual memory, so it takes fresh address space while");
        out.println("the holes stay available (and their pages can go back to the OS); its free lists are indexed by");
        out.println("size, so finding a block does not walk the holes.");
        out.flush();
    }
}
