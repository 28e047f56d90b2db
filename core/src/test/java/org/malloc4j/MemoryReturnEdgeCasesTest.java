package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.lang.reflect.Field;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.malloc4j.internal.HeapCore;

/** Memory back to the OS at its edges: dead threads, closed heaps, runs split in a loop, huge regrowth, refusals. */
class MemoryReturnEdgeCasesTest {
    private static final long KiB = 1024, MiB = 1024 * KiB;

    static HeapCore core(Heap heap) {
        try {
            Field f = Heap.class.getDeclaredField("core");
            f.setAccessible(true);
            return (HeapCore) f.get(heap);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * A worker thread uses small blocks of many classes, frees them all and ends. Nothing is live, the decay time is
     * 0, yet the dead thread's empty slabs (its spares and its empty current slabs) stay committed for as long as no
     * other thread happens to take a slab slow path: neither the page layer's decay nor the purger ever reaches a
     * dead cache, and stats() still counts it as a cache in use. (Waits up to ten seconds, as BackgroundPurgeTest
     * does, so that a fix by the purger thread passes too.)
     */
    @Test
    void aDeadThreadsEmptySlabsStayCommittedWithZeroDecay() throws Exception {
        try (Heap heap = Heap.builder().decay(Duration.ZERO).jmx(false).build()) {
            heap.free(heap.malloc(64)); // this thread's cache exists first
            int cachesBefore = heap.stats().threadCaches();
            Thread worker = Thread.ofPlatform().start(() -> {
                long[] blocks = new long[200];
                for (long size = 16; size <= 64 * KiB; size += Math.max(16, size / 4)) {
                    for (int i = 0; i < blocks.length; i++) blocks[i] = heap.malloc(size);
                    for (long p : blocks) heap.free(p);
                }
            });
            worker.join();
            // This thread goes on with page-run blocks only, which never take a slab, for up to ten seconds
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            do {
                heap.free(heap.malloc(MiB));
            } while (heap.stats().committedBytes() >= 64 * KiB && System.nanoTime() < deadline);
            HeapStats s = heap.stats();
            assertThat(s.liveBytes()).isZero();
            assertThat(s.committedBytes()).as("committed with nothing live and decay 0").isLessThan(64 * KiB);
            assertThat(s.threadCaches()).as("caches in use: the dead thread's is not").isEqualTo(cachesBefore);
        }
    }

    /**
     * A closed heap stays reachable (its directory, decay queue, indexes, slabs: Java heap) for as long as any thread
     * that used it lives: the ThreadLocal's value (the thread's LocalHeap) refers to the heap core, which refers to
     * the ThreadLocal, its key, so the entry is never stale. A thread pool that makes a heap per task leaks them all.
     */
    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void aClosedHeapIsNotKeptReachableByTheThreadsThatUsedIt(HeapMode mode) throws InterruptedException {
        ReferenceQueue<HeapCore> cleared = new ReferenceQueue<>();
        WeakReference<HeapCore> ref = openUseAndClose(mode, cleared);
        // A freed segment's cleanup action (SegmentWatch: a Cleaner) holds the heap until a GC has found the segment
        // unreachable and the cleaner thread has run it: a few collections, each followed by a bounded wait
        for (int i = 0; i < 50 && ref.get() != null; i++) {
            System.gc();
            cleared.remove(100);
        }
        assertThat(ref.get()).as("the closed heap's core after GC, its thread still alive").isNull();
    }

    private static WeakReference<HeapCore> openUseAndClose(HeapMode mode, ReferenceQueue<HeapCore> queue) {
        Heap heap = Heap.builder().mode(mode).decay(Duration.ZERO).jmx(false).build();
        heap.free(heap.malloc(64));
        heap.free(heap.allocate(100, 16));
        try (StackFrame f = heap.stack().push()) {
            f.allocate(64, 16);
        }
        WeakReference<HeapCore> ref = new WeakReference<>(core(heap), queue);
        heap.close();
        return ref;
    }

    /**
     * A 16 MiB dirty run, then one 300 KiB block taken and freed in a loop, for ten decay times. The block takes
     * the head of the run and each split re-queues the rest with a new time, as each free's merge does the whole run:
     * 15.7 MiB that no block has touched for a second never reach their decay time, and stay committed as long as
     * the loop runs. Timed by a manual clock, a millisecond a turn, so that the machine's speed does not matter.
     */
    @Test
    void aDirtyRunThatSmallBlocksKeepSplittingNeverDecays() {
        ManualClock clock = new ManualClock();
        try (Heap heap = Heap.builder().decay(Duration.ofMillis(100)).clock(clock).jmx(false).build()) {
            long big = heap.malloc(16 * MiB);
            heap.free(big);
            long retainedBefore = heap.stats().retainedBytes();
            for (int turn = 0; turn < 1000; turn++) {
                heap.free(heap.malloc(300 * KiB));
                clock.advance(Duration.ofMillis(1));
            }
            long retainedAfter = heap.stats().retainedBytes();
            assertThat(retainedBefore).isEqualTo(16 * MiB);
            assertThat(retainedAfter).as("retained after ten decay times").isLessThan(MiB);
        }
    }

    /**
     * A buffer that starts at 12 MiB and grows to 16 MiB by realloc (in place) before it is freed, in a loop, with a
     * release threshold of 8 MiB. The loop is recognised from the request (12 MiB), so only runs up to 12 MiB are
     * kept; the freed 16 MiB run is larger and goes back to the OS every turn: a madvise of 16 MiB and 4096 page
     * faults per turn in a steady state, for ever.
     */
    @Test
    void aHugeBufferGrownByReallocInALoopIsPurgedEveryTurn() {
        try (Heap heap = Heap.builder().decay(Duration.ofMinutes(10)).releaseThreshold(8 * MiB).jmx(false).build()) {
            heap.free(heap.malloc(64));
            for (int i = 0; i < 3; i++) growAndFree(heap);
            long purges = heap.stats().purgeCount();
            for (int i = 0; i < 10; i++) growAndFree(heap);
            assertThat(heap.stats().purgeCount() - purges).as("purges in ten steady-state turns").isZero();
        }
    }

    private static void growAndFree(Heap heap) {
        long p = heap.malloc(12 * MiB);
        long q = heap.realloc(p, 16 * MiB);
        assertThat(q).as("grown in place").isEqualTo(p);
        heap.free(q);
    }

    /**
     * madvise(MADV_DONTNEED) fails (EINVAL) on locked pages, e.g. a block the program mlock()ed (key material) and
     * freed. The purge throws from free() after the run has left the page layer's books: its pages are counted
     * nowhere (committed drops though they are resident), the run is in no index, and the page layer's structure
     * is broken.
     */
    @Test
    void aFailedMadviseLeavesThePageLayerConsistent() throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle mlock = linker.downcallHandle(linker.defaultLookup().findOrThrow("mlock"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
        try (Heap heap = Heap.builder().decay(Duration.ZERO).jmx(false).build()) {
            long p = heap.malloc(MiB);
            long other = heap.malloc(MiB);
            Assumptions.assumeTrue((int) mlock.invokeExact(p, MiB) == 0, "mlock refused (RLIMIT_MEMLOCK)");
            Throwable thrown = catchThrowable(() -> heap.free(p));
            Throwable broken = catchThrowable(() -> core(heap).checkStructure());
            HeapStats s = heap.stats();
            assertThat(broken).as("page layer structure after the failed purge (free threw %s)", thrown).isNull();
            assertThat(s.committedBytes()).as("committed: the locked MiB is still resident, the other block live")
                    .isGreaterThanOrEqualTo(2 * MiB);
            heap.free(other);
        }
    }
}
