package org.malloc4j.cli.replay;

import java.util.List;

/**
 * What the replay of one trace on one allocator found. Figures an allocator cannot give are -1 (bytes) or NaN
 * (ratios): a native allocator has no committed-bytes count.
 *
 * @param trace the trace's name
 * @param allocator the allocator's name
 * @param ops operations in the trace
 * @param nsPerOp wall time of the best timed pass divided by {@code ops}; NaN when the timed pass failed
 * @param tracePeakLiveBytes peak live bytes computed from the trace
 * @param peakLiveBytes peak live bytes: malloc4j's own count (which sees a moving realloc's two blocks at once)
 *        for malloc4j, the trace's for the others
 * @param peakCommittedBytes malloc4j's peak committed bytes; -1 for the others
 * @param utilization peak live bytes / peak committed bytes (malloc4j); NaN for the others
 * @param externalFragmentation malloc4j's {@code 1 - largest free block / free bytes} at the end of the trace;
 *        NaN for the others
 * @param peakRssBytes how far the process's resident set rose above its level at the start of the checked pass
 *        (which writes every byte of every block); -1 when the OS does not say. After a rehearsal this is a second
 *        run's figure, without the JIT compilers' first-time work
 * @param firstRunRssBytes the same rise over the rehearsal, the trace's first run in the JVM (the JIT's work on
 *        the code it reaches first included); -1 without a rehearsal
 * @param errors errors found by the checked pass (content, overlap, alignment, failed calls, statistics)
 * @param firstErrors the messages of the first few errors
 * @param leaks the blocks the trace leaves live, grouped ({@code --leaks}); null when not asked for
 * @param peakFootprintBytes malloc4j's peak of committed bytes and its bookkeeping on the Java heap together
 *        ({@code HeapStats.peakFootprintBytes}: what a native allocator's own memory would hold); -1 for the others
 */
public record ReplayResult(
        String trace,
        String allocator,
        long ops,
        double nsPerOp,
        long tracePeakLiveBytes,
        long peakLiveBytes,
        long peakCommittedBytes,
        double utilization,
        double externalFragmentation,
        long peakRssBytes,
        long firstRunRssBytes,
        long errors,
        List<String> firstErrors,
        LeakReport leaks,
        long peakFootprintBytes) {
    /** A result without a rehearsal or a leak report. */
    public ReplayResult(String trace, String allocator, long ops, double nsPerOp, long tracePeakLiveBytes,
            long peakLiveBytes, long peakCommittedBytes, double utilization, double externalFragmentation,
            long peakRssBytes, long errors, List<String> firstErrors) {
        this(trace, allocator, ops, nsPerOp, tracePeakLiveBytes, peakLiveBytes, peakCommittedBytes, utilization,
                externalFragmentation, peakRssBytes, -1, errors, firstErrors, null, -1);
    }
}
