package org.malloc4j.cli.replay;

import java.util.function.Supplier;
import org.malloc4j.HeapExhaustedException;
import org.malloc4j.HeapStats;
import org.malloc4j.anchors.Allocator;
import org.malloc4j.anchors.HeapAllocator;
import org.malloc4j.cli.trace.Trace;

/**
 * Replays traces, each on a fresh allocator that is closed after it: a {@link CheckedPass} (content, overlap and
 * statistics checks; the peak RSS is measured over it), then {@code repeat} {@link TimedPass timed passes} on the
 * same allocator, keeping the fastest. Optionally each trace is first rehearsed, once unmeasured on an allocator
 * of its own, so that the measured run's peak RSS does not hold the JIT's first-time work ({@link #rehearse}).
 * The timed passes thus find the allocator as a program's second run of the same work would, with whatever memory
 * it kept: for every allocator alike (a native one cannot be made fresh: it is the process's), and without counting
 * the page faults of a brand-new heap as allocation time.
 */
public final class ReplayDriver {
    /** The most timed passes a minimum time asks for: a trace of a few operations must still end. */
    public static final int MAX_PASSES = 100_000;
    private final String allocatorName;
    private final Supplier<Allocator> allocators;
    private final int repeat;
    private final boolean leaks;
    private final boolean rehearsal;
    private final long minTimedNanos;
    private final BlockPattern pattern = new BlockPattern();

    /**
     * @param allocatorName the name reported for the allocator
     * @param allocators opens a fresh allocator for each trace (and for the warm-up)
     * @param repeat timed passes per trace (the fastest counts), at least 1; no rehearsal, no leak report
     */
    public ReplayDriver(String allocatorName, Supplier<Allocator> allocators, int repeat) {
        this(allocatorName, allocators, repeat, false, false);
    }

    /**
     * @param allocatorName the name reported for the allocator
     * @param allocators opens a fresh allocator for each trace (and for the warm-up)
     * @param repeat timed passes per trace (the fastest counts), at least 1
     * @param leaks whether to report the blocks each trace leaves live ({@link ReplayResult#leaks()}), from the
     *        checked pass; on malloc4j their count is checked against the heap's own
     * @param rehearsal whether each trace is first replayed once unmeasured ({@link #rehearse}), so that its
     *        peak RSS is that of a second run in the JVM, without the JIT's first-time work
     */
    public ReplayDriver(String allocatorName, Supplier<Allocator> allocators, int repeat, boolean leaks,
            boolean rehearsal) {
        this(allocatorName, allocators, repeat, leaks, rehearsal, 0);
    }

    /**
     * @param allocatorName the name reported for the allocator
     * @param allocators opens a fresh allocator for each trace (and for the warm-up)
     * @param repeat timed passes per trace (the fastest counts), at least 1
     * @param leaks whether to report the blocks each trace leaves live
     * @param rehearsal whether each trace is first replayed once unmeasured ({@link #rehearse})
     * @param minTimedNanos timed passes go on beyond {@code repeat} until their times add up to this much (at most
     *        {@link #MAX_PASSES} passes): a trace that passes in 2 ms is still run by code the JIT has not finished
     *        compiling after 20 passes, and the allocator with the most Java code pays for it most; 0 for none
     */
    public ReplayDriver(String allocatorName, Supplier<Allocator> allocators, int repeat, boolean leaks,
            boolean rehearsal, long minTimedNanos) {
        if (repeat < 1) throw new IllegalArgumentException("repeat must be at least 1: " + repeat);
        this.allocatorName = allocatorName;
        this.allocators = allocators;
        this.repeat = repeat;
        this.leaks = leaks;
        this.rehearsal = rehearsal;
        if (minTimedNanos < 0) {
            throw new IllegalArgumentException("minTimedNanos must not be negative: " + minTimedNanos);
        }
        this.minTimedNanos = minTimedNanos;
    }

    /**
     * Replays {@code trace} (a short one, not reported) on a fresh allocator, so that the JIT compilers have done
     * their work, and used their memory, before the first trace measured. What goes wrong here is ignored: the
     * traces measured will show it.
     */
    /** Unreported timed passes of the warm-up trace: about 1.2 million operations, past the JIT's C2 thresholds. */
    private static final int WARM_TIMED_PASSES = 20;

    public void warmUp(Trace trace) {
        try (Allocator allocator = allocators.get()) {
            runUnmeasured(trace, allocator);
            // The timed loop is the driver's, the same for every allocator: two passes of a short trace left it
            // compiled by C1 only, and its C2 compilation fell in the first trace's one measured pass (glibc's
            // short-lived read 130-259 ns/op there, 25 in the next). Enough passes to reach C2 here.
            for (int r = 0; r < WARM_TIMED_PASSES; r++) TimedPass.run(trace, allocator);
            // A native allocator is the process's: what the warm-up left resident in it would serve the first
            // measured trace without showing in its RSS, as after a trace (see replay).
            allocator.releaseFreeMemory();
        } catch (RuntimeException | HeapExhaustedException e) {
            // ignored, as documented
        }
    }

    /** A checked pass (its errors not kept) and two timed passes of {@code trace} on {@code allocator}, untimed. */
    private void runUnmeasured(Trace trace, Allocator allocator) {
        CheckedPass checked = new CheckedPass(trace, allocator, pattern, new ReplayErrors(0));
        checked.run();
        checked.freeRemaining();
        for (int r = 0; r < 2; r++) TimedPass.run(trace, allocator);
    }

    /** Resets the process's RSS high-water mark; @return the level a rise is measured from, -1 when unknown */
    private static long rssBaseline() {
        // Without a reset the high-water mark is the process's, set by the rehearsal, the warm-up or an earlier
        // trace: its rise says nothing of this trace, so the peak is unknown (n/a), not a figure near 0
        return ProcessMemory.resetPeak() ? ProcessMemory.rssBytes() : -1;
    }

    /** @return how far the RSS high-water mark rose above {@code baseline}, -1 when unknown */
    private static long rssRise(long baseline) {
        long peak = ProcessMemory.peakRssBytes();
        return baseline < 0 || peak < 0 ? -1 : Math.max(0, peak - baseline);
    }

    /**
     * Replays {@code trace}: when the driver rehearses, once unmeasured first (see {@link #rehearse}); then on a
     * fresh allocator, a checked pass over which the peak RSS is measured, then the timed passes.
     */
    public ReplayResult replay(Trace trace) {
        long firstRunRss = rehearsal ? rehearse(trace) : -1;
        ReplayErrors errors = new ReplayErrors(ReplayErrors.KEPT);
        long rssBaseline = rssBaseline();
        HeapStats stats = null;
        LeakReport leakReport = null;
        long rssDelta;
        long best = Long.MAX_VALUE;
        try (Allocator allocator = allocators.get()) {
            CheckedPass checked = new CheckedPass(trace, allocator, pattern, errors, leaks);
            checked.run();
            if (allocator instanceof HeapAllocator h) {
                stats = h.heap().stats();
                // Against the trace's own figures only when every call went as the trace says: a refused malloc
                // leaves the heap's counts short of the trace's, for a reason the errors above already give
                if (errors.count() == 0) StatsCheck.atEnd(trace, stats, errors);
            }
            if (leaks) {
                leakReport = checked.leaks(stats != null ? stats.liveBlocks() : -1);
                // As the statistics above: a refused malloc is live for the trace, never held by the heap
                if (stats != null && errors.count() == 0 && leakReport.blocks() != stats.liveBlocks()) {
                    errors.add(trace.name() + " at the end: the leak report lists " + leakReport.blocks()
                            + " live blocks, malloc4j counts " + stats.liveBlocks());
                }
            }
            checked.freeRemaining();
            rssDelta = rssRise(rssBaseline);
            long timed = 0;
            try {
                // Unreported: the trace's own paths through the timed loop (sizes under 8 bytes, say) deoptimised
                // the loop the warm-up had compiled, inside the one measured pass
                TimedPass.run(trace, allocator);
            } catch (RuntimeException | HeapExhaustedException e) {
                // the measured passes below fail the same way and say so
            }
            for (int r = 0; r < repeat || (timed < minTimedNanos && r < MAX_PASSES); r++) {
                try {
                    long t = TimedPass.run(trace, allocator);
                    timed += t;
                    best = Math.min(best, t);
                } catch (RuntimeException | HeapExhaustedException e) {
                    errors.add(trace.name() + ": the timed pass failed: " + e);
                    break;
                }
            }
            try {
                allocator.releaseFreeMemory(); // for the next trace in this JVM
            } catch (RuntimeException | HeapExhaustedException e) {
                errors.add(trace.name() + ": giving free memory back after the trace failed: " + e);
            }
        }
        // No ops, no time per op: the empty loop's time is not an allocator's (printed as n/a, JSON null)
        double nsPerOp = best == Long.MAX_VALUE || trace.size() == 0 ? Double.NaN : (double) best / trace.size();

        return new ReplayResult(trace.name(), allocatorName, trace.size(), nsPerOp, trace.peakLiveBytes(),
                stats != null ? stats.peakLiveBytes() : trace.peakLiveBytes(),
                stats != null ? stats.peakCommittedBytes() : -1,
                stats != null ? stats.utilization() : Double.NaN,
                stats != null ? stats.externalFragmentation() : Double.NaN,
                rssDelta, firstRunRss, errors.count(), errors.first(), leakReport,
                stats != null ? stats.peakFootprintBytes() : -1);
    }

    /**
     * The trace's rehearsal, for an allocator whose code is Java ({@link Allocator#isJava}): its checked pass and
     * two timed passes on an allocator of its own, closed after it (a malloc4j heap unmaps its memory, and the
     * measured run gets a new one). A first run of a trace in a JVM also pays for the JIT compilers' work on the
     * allocator code it is the first to reach (their arenas and the code they make, several MiB: the second of
     * three runs of gcc-cc1 in one JVM rose 6.2 MB, against 9.7-14.1 MB for the first), and only a Java
     * allocator has such code; the rehearsal takes that work out of the measured run. A native allocator is not
     * rehearsed (the replay's own code is, on a throwaway malloc4j heap: see below): it is the process's and cannot
     * be made fresh, and what it keeps resident after a rehearsal,
     * whatever it is asked to release ({@link Allocator#releaseFreeMemory}), would be reused by the measured run
     * without showing in its RSS (glibc's rise on sqlite3 fell from 23.7 to 11.6 MiB, for 20 MiB live). Errors
     * are ignored here: the measured run finds them.
     *
     * @return how far the process's resident set rose over the rehearsal, whose checked pass sets its peak (the
     *         first run's peak RSS), or -1 when the allocator is not rehearsed, the OS does not say or it failed
     */
    private long rehearse(Trace trace) {
        long rssBaseline = rssBaseline();
        try (Allocator allocator = allocators.get()) {
            if (allocator.isJava()) {
                runUnmeasured(trace, allocator);
                return rssRise(rssBaseline); // its timed passes touch 16 bytes a block: the checked pass sets the peak
            }
        } catch (RuntimeException | HeapExhaustedException e) {
            return -1;
        }
        // A native allocator: the replay's own code for this trace (its patterns' fills and checks, the paths its
        // sizes take) is compiled on a throwaway malloc4j heap, so that the native's measured run does not pay for
        // that first compilation while malloc4j's, rehearsed, does not (a review measured jemalloc's peak RSS on
        // sqlite3 at 38.9 MiB without this and 34.4 with it, mimalloc's on gcc-cc1 8.4-9.95 against 7.6; 2026-12-07).
        // The native allocator itself is not touched.
        try (Allocator stand = new HeapAllocator(org.malloc4j.Heap.builder().jmx(false).build())) {
            runUnmeasured(trace, stand);
        } catch (RuntimeException | HeapExhaustedException e) {
            // the measured run finds the trace's errors
        }
        // What those compilations freed into the C heap goes back, as after the warm-up: glibc is the JVM's own
        // malloc, and its measured run would reuse those resident pages without showing them in its RSS (its rise
        // read 84 KiB for ls-lR's 285 KiB live, 4.0 MiB for gcc-cc1's 4.2)
        try (Allocator allocator = allocators.get()) {
            allocator.releaseFreeMemory();
        } catch (RuntimeException | HeapExhaustedException e) {
            // the measured run says what does not work
        }
        return -1;
    }
}
