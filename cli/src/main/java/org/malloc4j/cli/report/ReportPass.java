package org.malloc4j.cli.report;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.malloc4j.Heap;
import org.malloc4j.HeapExhaustedException;
import org.malloc4j.HeapSnapshot;
import org.malloc4j.HeapStats;
import org.malloc4j.cli.trace.Trace;

/**
 * A separate, untimed replay of a trace on a fresh malloc4j heap that feeds an {@link HtmlReport}: timeline samples
 * every max(1, ops/2000) ops and at each peak snapshot, a snapshot at the peak (taken when live bytes grew by more
 * than 5% over the last peak snapshot, at most every ops/200 ops) and one at the end. It never runs inside the timed
 * pass.
 */
public final class ReportPass {
    private ReportPass() {}

    /** The whole address space, to touch the blocks of the heap. */
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    /**
     * Writes a byte in each page of the block at {@code p}: a program uses the memory it asks for, and the replay's
     * peak RSS counts it (its checked pass writes every byte), so the timeline's resident bytes must too; a pass that
     * only called malloc and free would show the heap's pages never resident. A block of 0 bytes has none to touch.
     */
    public static void touch(long p, long size) {
        long end = p + size;
        for (long a = p; a < end; a = (a & -4096L) + 4096) ALL.set(ValueLayout.JAVA_BYTE, a, (byte) 1);
    }

    /** Replays {@code trace} on a fresh heap and adds its timeline and snapshots to {@code report}. */
    public static void run(Trace trace, HtmlReport report) {
        run(trace, report, Heap.builder());
    }

    /** As {@link #run(Trace, HtmlReport)}, on a fresh heap from {@code builder} (the replay's {@code --decay}). */
    public static void run(Trace trace, HtmlReport report, Heap.Builder builder) {
        int n = trace.size();
        int every = Math.max(1, n / 2000);
        int snapEvery = Math.max(1, n / 200);
        long[] addr = new long[Math.max(1, trace.idSpan())];
        HeapSnapshot peak = null;
        long peakLive = 0;
        long peakSnapLive = 0;
        int lastSnapOp = -snapEvery;
        long live = 0;
        long[] sizes = new long[addr.length];
        String name = report.timelineName(trace.name());
        int refused = 0;
        try (Heap heap = builder.build()) {
            if (n > 0) {
                // The timeline starts from the fresh heap: a trace of one operation had one point, and no line drawn
                HeapStats s = heap.stats();
                report.sample(name, 0, s.liveBytes(), s.committedBytes(), s.retainedBytes(), s.residentBytes());
            }
            for (int i = 0; i < n; i++) {
                int id = trace.id(i);
                try {
                    switch (trace.kind(i)) {
                        case Trace.ALLOC -> {
                            // The size as the trace has it, 0 too, as the timed pass asks: not 1, which the page
                            // counted as a live byte the replay's summary did not
                            addr[id] = heap.malloc(trace.size(i));
                            touch(addr[id], trace.size(i));
                            sizes[id] = trace.size(i);
                            live += trace.size(i);
                        }
                        case Trace.FREE -> {
                            if (addr[id] != 0) heap.free(addr[id]);
                            addr[id] = 0;
                            live -= sizes[id];
                            sizes[id] = 0;
                        }
                        default -> {
                            addr[id] = heap.realloc(addr[id], trace.size(i)); // never 0 (TraceBuilder)
                            touch(addr[id], trace.size(i));
                            live += trace.size(i) - sizes[id];
                            sizes[id] = trace.size(i);
                        }
                    }
                } catch (HeapExhaustedException e) {
                    refused++; // as C's NULL: a malloc leaves no block, a realloc leaves the old one as it was
                }
                // The snapshot of the peak is taken at the trace's own peak, and on the way up to it, at most every
                // snapEvery operations: a peak reached by a few large blocks in a row would fall between those
                boolean atPeak = live == trace.peakLiveBytes() && peakSnapLive < live;
                boolean snapped = false;
                if (live > peakLive || atPeak) {
                    peakLive = Math.max(peakLive, live);
                    if (atPeak || live > peakSnapLive * 1.05 && i - lastSnapOp >= snapEvery) {
                        peak = heap.snapshot();
                        peakSnapLive = live;
                        lastSnapOp = i;
                        snapped = true;
                    }
                }
                // A peak snapshot's moment is sampled too: a peak held for fewer than `every` ops would fall
                // between the timeline's samples, and the timeline would not show the peak the page heads its map with
                if (snapped || i % every == 0 || i == n - 1) {
                    HeapStats s = heap.stats();
                    report.sample(name, i + 1L, s.liveBytes(), s.committedBytes(), s.retainedBytes(),
                            s.residentBytes());
                }
            }
            if (peak != null) {
                String at = peakSnapLive == trace.peakLiveBytes() ? ": at peak (" : ": near peak (";
                report.snapshot(name + at + HtmlReport.human(peakSnapLive) + " live)", peak);
            }
            report.snapshot(name + ": end" + (refused == 0 ? ""
                    : " (" + refused + " request(s) the heap refused: out of memory or over its limit)"),
                    heap.snapshot());
            for (long a : addr) if (a != 0) heap.free(a); // what the trace leaves live is not a leak of this pass
        }
    }
}
