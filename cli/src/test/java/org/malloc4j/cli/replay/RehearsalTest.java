package org.malloc4j.cli.replay;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.malloc4j.Heap;
import org.malloc4j.anchors.Allocator;
import org.malloc4j.anchors.HeapAllocator;
import org.malloc4j.cli.trace.Trace;

/**
 * The replay's rehearsal: a trace is replayed once, unmeasured, on an allocator of its own before the measured run,
 * for an allocator whose code is Java and only for it; whatever allocator ran a trace, or the warm-up, gives its free
 * memory back after it.
 */
class RehearsalTest {
    /** malloc4j behind a counter of calls; {@code java} says what {@link #isJava} answers. */
    private static final class Counting implements Allocator {
        final Allocator inner = new HeapAllocator(Heap.create());
        final boolean java;
        long calls;
        int releases;
        boolean closed;

        Counting(boolean java) {
            this.java = java;
        }

        @Override public String name() { return "counting"; }
        @Override public long malloc(long size) { calls++; return inner.malloc(size); }
        @Override public void free(long address) { calls++; inner.free(address); }
        @Override public long realloc(long address, long size) { calls++; return inner.realloc(address, size); }
        @Override public long calloc(long count, long size) { calls++; return inner.calloc(count, size); }
        @Override public boolean isJava() { return java; }
        @Override public void releaseFreeMemory() { releases++; }
        @Override public void close() { closed = true; inner.close(); }
    }

    private static List<Counting> replay(boolean java, boolean rehearsal, ReplayResult[] result) {
        return replay(java, rehearsal, 0, result);
    }

    private static List<Counting> replay(boolean java, boolean rehearsal, long minTimedNanos, ReplayResult[] result) {
        List<Counting> opened = new ArrayList<>();
        Trace trace = CheckedPassTest.trace();
        ReplayDriver driver = new ReplayDriver("counting", () -> {
            assertThat(opened).as("the allocator before this one is closed").allMatch(a -> a.closed);
            Counting a = new Counting(java);
            opened.add(a);
            return a;
        }, 1, false, rehearsal, minTimedNanos);
        result[0] = driver.replay(trace);
        return opened;
    }

    @Test
    void aJavaAllocatorIsRehearsedOnAnAllocatorOfItsOwnThenMeasuredOnAFreshOne() {
        ReplayResult[] r = new ReplayResult[1];
        List<Counting> opened = replay(true, true, r);
        assertThat(opened).hasSize(2);
        Counting rehearsal = opened.get(0), measured = opened.get(1);
        // each: the checked pass and two timed passes (the measured run's first unreported, its second timed)
        assertThat(rehearsal.calls).isEqualTo(measured.calls).isGreaterThan(3_000);
        assertThat(rehearsal.releases).isZero(); // closed instead: a malloc4j heap unmaps its memory
        assertThat(measured.releases).isEqualTo(1);
        assertThat(r[0].errors()).isZero();
        if (r[0].peakRssBytes() >= 0) assertThat(r[0].firstRunRssBytes()).isNotNegative();
    }

    @Test
    void aNativeAllocatorIsNotRehearsed() {
        ReplayResult[] r = new ReplayResult[1];
        List<Counting> opened = replay(false, true, r);
        // the rehearsal opens one to ask whether its code is Java, and runs nothing on it; the replay's own code then
        // runs on a throwaway malloc4j heap, and a second one is opened only to give its free memory back
        assertThat(opened).hasSize(3);
        assertThat(opened.get(0).calls).isZero();
        assertThat(opened.get(1).calls).isZero();
        assertThat(opened.get(1).releases).isEqualTo(1);
        assertThat(opened.get(2).releases).isEqualTo(1);
        assertThat(r[0].firstRunRssBytes()).isEqualTo(-1);
        assertThat(r[0].errors()).isZero();
    }

    @Test
    void withoutARehearsalOnlyTheMeasuredRunHappens() {
        ReplayResult[] r = new ReplayResult[1];
        List<Counting> opened = replay(true, false, r);
        assertThat(opened).hasSize(1);
        assertThat(r[0].firstRunRssBytes()).isEqualTo(-1);
        assertThat(r[0].errors()).isZero();
    }

    /**
     * The warm-up runs on the process's allocator when it is native: what it leaves resident must be given back
     * before the first measured trace, or that trace reuses it unseen (jemalloc's gcc-cc1 rise read 4.2 MB for 4.4 MB
     * live).
     */
    @Test
    void theWarmUpGivesItsFreeMemoryBack() {
        List<Counting> opened = new ArrayList<>();
        ReplayDriver driver = new ReplayDriver("counting", () -> {
            Counting a = new Counting(false);
            opened.add(a);
            return a;
        }, 1, false, true, 0);
        driver.warmUp(CheckedPassTest.trace());
        assertThat(opened).hasSize(1);
        assertThat(opened.getFirst().calls).isGreaterThan(3_000);
        assertThat(opened.getFirst().releases).isEqualTo(1);
        assertThat(opened.getFirst().closed).isTrue();
    }

    /** A minimum time makes more timed passes than {@code repeat} asks for, until their times add up to it. */
    @Test
    void timedPassesGoOnUntilTheMinimumTime() {
        ReplayResult[] r = new ReplayResult[1];
        long onePass = replay(true, false, 0, r).getFirst().calls;
        long manyPasses = replay(true, false, 200_000_000L, r).getFirst().calls; // 0.2 s of 3,000-op passes
        assertThat(manyPasses).as("calls with a minimum time, against one pass (%d)", onePass)
                .isGreaterThan(onePass * 3);
        assertThat(r[0].errors()).isZero();
    }
}
