package org.malloc4j.cli.replay;

import org.malloc4j.HeapStats;
import org.malloc4j.cli.trace.Trace;

/**
 * Checks malloc4j's own figures against the trace after a checked pass, on one thread where they are exact: the
 * live bytes and blocks left at the end must be the trace's, and the peak live bytes at least the trace's (it may
 * be more: a realloc that moves holds both blocks for a moment).
 */
final class StatsCheck {
    private StatsCheck() {}

    static void atEnd(Trace trace, HeapStats stats, ReplayErrors errors) {
        String where = trace.name() + " at the end: malloc4j's statistics disagree with the trace: ";
        if (stats.liveBytes() != trace.finalLiveBytes()) {
            errors.add(where + "liveBytes " + stats.liveBytes() + ", the trace leaves " + trace.finalLiveBytes());
        }
        if (stats.liveBlocks() != trace.finalLiveBlocks()) {
            errors.add(where + "live blocks (mallocCount - freeCount) " + stats.liveBlocks() + ", the trace leaves "
                    + trace.finalLiveBlocks());
        }
        if (stats.peakLiveBytes() < trace.peakLiveBytes()) {
            errors.add(where + "peakLiveBytes " + stats.peakLiveBytes() + " is below the trace's peak "
                    + trace.peakLiveBytes());
        }
    }
}
