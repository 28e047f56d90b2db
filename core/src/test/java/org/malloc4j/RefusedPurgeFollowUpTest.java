package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** What follows a purge the OS refuses (madvise on pages the program mlock()ed): the run stays dirty, in the books. */
class RefusedPurgeFollowUpTest {
    private static final long KiB = 1024, MiB = 1024 * KiB;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final FunctionDescriptor LOCK_FN =
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
    private static final MethodHandle MLOCK =
            LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("mlock"), LOCK_FN);
    private static final MethodHandle MUNLOCK =
            LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("munlock"), LOCK_FN);

    private static void mlock(long address, long size) throws Throwable {
        Assumptions.assumeTrue((int) MLOCK.invokeExact(address, size) == 0, "mlock refused (RLIMIT_MEMLOCK)");
    }

    /**
     * Two blocks of different sizes taken and freed in turn, for five decay times: the working set is the same pages
     * every turn. The freed run merges with the dirty piece the other block left and takes that piece's older time,
     * which every turn hands on again: the run that the loop uses all the time reaches its decay time and goes back to
     * the OS, then faults in again, once every decay time (the default: every second) for as long as the loop runs.
     * Before 977e79c a freed run took the time of its free, and this loop made no purge; now a merged run takes the
     * time of its largest part. Timed by a manual clock, a millisecond a call, so that no stall of the machine can
     * make a purge.
     */
    @Test
    void aSteadyLoopOfTwoSizesDoesNotPurgeItsWorkingSet() {
        ManualClock clock = new ManualClock();
        try (Heap heap = Heap.builder().decay(Duration.ofMillis(400)).clock(clock).jmx(false).build()) {
            turns(heap, clock, 250); // the steady state: 500 ms
            long purges = heap.stats().purgeCount();
            turns(heap, clock, 1000); // five decay times
            long during = heap.stats().purgeCount() - purges;
            assertThat(during).as("purges in five decay times of a steady loop").isZero();
        }
    }

    private static void turns(Heap heap, ManualClock clock, int turns) {
        for (int i = 0; i < turns; i++) {
            heap.free(heap.malloc(300 * KiB));
            clock.advance(Duration.ofMillis(1));
            heap.free(heap.malloc(400 * KiB));
            clock.advance(Duration.ofMillis(1));
        }
    }

    /**
     * A block grown in place over clean pages past the limit: resize() gives the dirty runs back first (purgeAll) and
     * then grows without looking at the limit again. When the purge is refused the dirty run is still committed, and
     * the heap holds more than its limit (allocate() looks again after its purgeAll and refuses).
     */
    @Test
    void aBlockGrownInPlaceStaysUnderTheLimitWhenThePurgeIsRefused() throws Throwable {
        try (Heap heap = Heap.builder().limit(8 * MiB).decay(Duration.ofMinutes(10)).jmx(false).build()) {
            long locked = heap.malloc(MiB);
            long grown = heap.malloc(2 * MiB);
            mlock(locked, MiB);
            heap.free(locked); // dirty, waiting for its decay time
            Throwable thrown = catchThrowable(() -> heap.realloc(grown, 8 * MiB)); // 2 + 6 used, 1 dirty
            HeapStats s = heap.stats();
            int rc = (int) MUNLOCK.invokeExact(locked, MiB);
            assertThat(s.committedBytes()).as("committed bytes with a limit of 8 MiB (realloc threw %s)", thrown)
                    .isLessThanOrEqualTo(8 * MiB);
        }
    }
}
