package org.malloc4j.cli.demo;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import org.malloc4j.Heap;
import org.malloc4j.HeapStats;
import org.malloc4j.cli.report.HtmlReport;

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
    /** Margin over {@link #HEAP} for malloc4j's limit (metadata, page rounding). */
    public static final long MARGIN = 16L << 20;
    /** Size of the probe allocations that are timed: larger than a hole, so first fit must skip every hole. */
    public static final long PROBE = 128L << 10;
    private static final int PROBES = 2000;
    private static final int[] HOLE_STEPS = {0, 60, 120, 240, 480};

    /** What one heap did. */
    public record Outcome(String heap, long freeBytes, long largestFreeExtent, boolean largeSucceeded,
            long[] holes, double[] nsPerMalloc) {}

    /** Both heaps' outcomes. */
    public record Result(Outcome malloc4j, Outcome naive) {}

    private FragmentationDemo() {}

    /** Runs the demo, and adds malloc4j's heap map to {@code report} if it is not null. */
    public static Result run(HtmlReport report) {
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
            naiveNs[s] = timeNaive(naive);
        }
        boolean naiveLarge = naive.malloc(LARGE) >= 0;
        Outcome n = new Outcome("naive first-fit", naive.freeBytes(), naive.largestFreeExtent(), naiveLarge,
                holes, naiveNs);

        Outcome m;
        try (Heap heap = Heap.builder().limit(HEAP + MARGIN).build()) {
            long[] mb = new long[blocks];
            for (int i = 0; i < blocks; i++) mb[i] = heap.malloc(BLOCK);
            if (report != null) report.snapshot("malloc4j: heap full", heap.snapshot());
            freed = 0;
            for (int s = 0; s < HOLE_STEPS.length; s++) {
                while (freed < HOLE_STEPS[s]) heap.free(mb[2 * freed++]);
                m4jNs[s] = timeMalloc4j(heap);
            }
            if (report != null) report.snapshot("malloc4j: every other block freed", heap.snapshot());
            HeapStats before = heap.stats();
            boolean ok;
            try {
                heap.malloc(LARGE);
                ok = true;
            } catch (RuntimeException e) {
                ok = false;
            }
            if (report != null) report.snapshot("malloc4j: after the large request", heap.snapshot());
            m = new Outcome("malloc4j", before.freeBytes(), before.largestFreeBlock(), ok, holes, m4jNs);
        }
        return new Result(m, n);
    }

    private static double timeNaive(NaiveFirstFitHeap h) {
        long t0 = System.nanoTime();
        for (int i = 0; i < PROBES; i++) {
            long p = h.malloc(PROBE);
            if (p >= 0) h.free(p);
        }
        return (System.nanoTime() - t0) / (double) PROBES;
    }

    private static double timeMalloc4j(Heap h) {
        long t0 = System.nanoTime();
        for (int i = 0; i < PROBES; i++) h.free(h.malloc(PROBE));
        return (System.nanoTime() - t0) / (double) PROBES;
    }

    /** Prints the side-by-side comparison. */
    public static void print(Result r, PrintWriter out) {
        out.printf("Fragmentation demo: %s heap filled with %s blocks, every other one freed, then one %s request.%n",
                HtmlReport.human(HEAP), HtmlReport.human(BLOCK), HtmlReport.human(LARGE));
        out.printf("%-34s %18s %18s%n", "", "malloc4j", "naive first-fit");
        out.printf("%-34s %18s %18s%n", "free bytes", HtmlReport.human(r.malloc4j().freeBytes()),
                HtmlReport.human(r.naive().freeBytes()));
        out.printf("%-34s %18s %18s%n", "largest free extent", HtmlReport.human(r.malloc4j().largestFreeExtent()),
                HtmlReport.human(r.naive().largestFreeExtent()));
        out.printf("%-34s %18s %18s%n", HtmlReport.human(LARGE) + " request",
                r.malloc4j().largeSucceeded() ? "succeeded" : "FAILED", r.naive().largeSucceeded() ? "succeeded" : "FAILED");
        for (int s = 0; s < r.naive().holes().length; s++) {
            out.printf("%-34s %18.0f %18.0f%n", "ns per malloc(" + HtmlReport.human(PROBE) + "), " + r.naive().holes()[s]
                    + " holes", r.malloc4j().nsPerMalloc()[s], r.naive().nsPerMalloc()[s]);
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
