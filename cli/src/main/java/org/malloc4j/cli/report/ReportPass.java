package org.malloc4j.cli.report;

import org.malloc4j.Heap;
import org.malloc4j.HeapSnapshot;
import org.malloc4j.HeapStats;
import org.malloc4j.cli.trace.Trace;

/**
 * A separate, untimed replay of a trace on a fresh malloc4j heap that feeds an {@link HtmlReport}: timeline samples
 * every max(1, ops/2000) ops, a snapshot at the peak (taken when live bytes grew by more than 5% over the last
 * peak snapshot, at most every ops/200 ops) and one at the end. It never runs inside the timed pass.
 */
public final class ReportPass {
    private ReportPass() {}

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
        try (Heap heap = builder.build()) {
            for (int i = 0; i < n; i++) {
                int id = trace.id(i);
                switch (trace.kind(i)) {
                    case Trace.ALLOC -> {
                        addr[id] = heap.malloc(Math.max(1, trace.size(i)));
                        sizes[id] = trace.size(i);
                        live += trace.size(i);
                    }
                    case Trace.FREE -> {
                        heap.free(addr[id]);
                        addr[id] = 0;
                        live -= sizes[id];
                        sizes[id] = 0;
                    }
                    default -> {
                        addr[id] = heap.realloc(addr[id], Math.max(1, trace.size(i)));
                        live += trace.size(i) - sizes[id];
                        sizes[id] = trace.size(i);
                    }
                }
                if (live > peakLive) {
                    peakLive = live;
                    if (live > peakSnapLive * 1.05 && i - lastSnapOp >= snapEvery) {
                        peak = heap.snapshot();
                        peakSnapLive = live;
                        lastSnapOp = i;
                    }
                }
                if (i % every == 0 || i == n - 1) {
                    HeapStats s = heap.stats();
                    report.sample(trace.name(), i, s.liveBytes(), s.committedBytes(), s.retainedBytes(),
                            s.residentBytes());
                }
            }
            if (peak != null) {
                report.snapshot(trace.name() + ": near peak (" + HtmlReport.human(peakSnapLive) + " live)", peak);
            }
            report.snapshot(trace.name() + ": end", heap.snapshot());
        }
    }
}
