package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A medium block (above 32 KiB, up to 256 KiB) is a slab of one block, its class's whole pages: the bytes between
 * the size asked for and the class are the block's (no malloc can have them, and they go back with it), as the page
 * rounding of a page-run block is ({@link PageRoundingIsNotFreeTest}). So {@code freeBytes} leaves them out and
 * {@code externalFragmentation} ({@code 1 - largestFreeBlock / freeBytes}) does not read them as scattered free
 * memory. Before, a heap holding one thread stack (65,552 bytes in a 72 KiB block) and nothing else read 1.0 after
 * {@code trim()}: 8,176 bytes "free", none of them in a free run. The rounding moves with the block through every path:
 * a free by its owner or by another thread, a realloc in place, a dead thread's cache adopted.
 */
class MediumRoundingIsNotFreeTest {
    private static final long MiB = 1L << 20;
    private static final int PAGE = 4096;

    private static Heap heap() {
        return Heap.builder().name("medium-rounding").decay(Duration.ofHours(1)).build();
    }

    /** {@code h}'s figures, checked against the definitions: nothing free outside free page runs. */
    private static void assertNothingFreeButRuns(Heap h, String what) {
        HeapStats s = h.stats();
        assertThat(s.freeBytes()).as("%s: freeBytes", what).isEqualTo(s.retainedBytes());
        assertThat(s.freeBytes()).as("%s: freeBytes, one extent", what).isEqualTo(s.largestFreeBlock());
        assertThat(s.externalFragmentation()).as("%s: externalFragmentation", what).isZero();
    }

    /**
     * {@code freeBytes} against the snapshot, with no thread in a heap call: committed bytes less the live bytes, the
     * page rounding of page-run blocks and the rounding of medium blocks (their classes' waste).
     */
    private static void assertAgreesWithTheSnapshot(Heap h, String what) {
        HeapStats s = h.stats();
        long rounding = 0;
        HeapSnapshot snap = h.snapshot();
        for (HeapSnapshot.Run r : snap.runs()) {
            if (r.kind() == HeapSnapshot.Kind.BLOCK) rounding += r.bytes() - r.blockSize();
        }
        for (HeapSnapshot.SizeClassUsage c : snap.classes()) {
            if (c.blockSize() > 32 * 1024) rounding += c.wasteBytes();
        }
        assertThat(s.freeBytes()).as("%s: freeBytes", what).isEqualTo(s.committedBytes() - s.liveBytes() - rounding);
    }

    @Test
    void mediumBlocksHandedBetweenThreadsAgreeWithTheSnapshot() throws InterruptedException {
        try (Heap h = heap()) {
            long[] sizes = {33_000, 40_000, 47_500, 70_000, 100_000, 150_000, 200_000, 250_000};
            List<Long> theirs = new ArrayList<>();
            CountDownLatch handed = new CountDownLatch(1), freeMine = new CountDownLatch(1);
            CountDownLatch freedMine = new CountDownLatch(1), end = new CountDownLatch(1);
            long[] mine = new long[sizes.length];
            Thread other = Thread.ofPlatform().start(() -> {
                for (long size : sizes) theirs.add(h.malloc(size));
                handed.countDown();
                await(freeMine);
                for (int i = 0; i < mine.length; i += 3) h.free(mine[i]); // remote frees into this thread's cache
                freedMine.countDown();
                await(end);
            });
            handed.await();
            for (int i = 0; i < sizes.length; i++) mine[i] = h.malloc(sizes[i] + 1);
            for (int i = 0; i < theirs.size(); i += 2) h.free(theirs.get(i)); // remote frees, not collected
            for (int i = 1; i < theirs.size(); i += 2) { // resized in place by a thread that does not own them
                assertThat(h.realloc(theirs.get(i), sizes[i] - 16)).isEqualTo(theirs.get(i));
            }
            freeMine.countDown();
            freedMine.await();
            assertAgreesWithTheSnapshot(h, "blocks handed over, frees not collected");
            h.trim(); // collects this thread's remote frees
            assertAgreesWithTheSnapshot(h, "this thread's frees collected");
            end.countDown();
            other.join();
            h.trim(); // adopts the other thread's cache, with its remote frees and its live blocks
            assertAgreesWithTheSnapshot(h, "the other thread's cache adopted");
            for (int i = 1; i < theirs.size(); i += 2) h.free(theirs.get(i));
            for (int i = 0; i < mine.length; i++) if (i % 3 != 0) h.free(mine[i]);
            h.trim();
            assertThat(h.stats().committedBytes()).isZero();
            assertNothingFreeButRuns(h, "all freed");
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** In both modes: CHECKED's red zones (65,584 bytes) fit the same class, and are no more free than its rounding. */
    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void aThreadStackAloneIsNotFragmented(HeapMode mode) {
        try (Heap h = Heap.builder().name("medium-rounding").mode(mode).decay(Duration.ofHours(1)).build()) {
            try (StackFrame f = h.stack().push()) {
                f.allocate(16);
            }
            h.trim();
            HeapStats s = h.stats();
            long block = HeapStack.DEFAULT_SIZE + 16; // 65,552 bytes: the 72 KiB class
            assertThat(s.liveBytes()).isEqualTo(block);
            assertThat(s.committedBytes()).isEqualTo(72 * 1024);
            assertThat(s.freeBytes()).isZero();
            assertThat(s.largestFreeBlock()).isZero();
            assertThat(s.externalFragmentation()).isZero();
        }
    }

    @Test
    void oneMediumBlockAndOneFreeRunIsOneExtent() {
        try (Heap h = heap()) {
            long a = h.malloc(33_000); // the 36 KiB class: 3,864 bytes of rounding
            h.trim();
            HeapStats s = h.stats();
            assertThat(s.committedBytes()).isEqualTo(36 * 1024);
            assertThat(s.freeBytes()).isZero();
            assertThat(s.externalFragmentation()).isZero();
            long large = h.malloc(MiB + 1);
            h.free(large);
            s = h.stats();
            assertThat(s.freeBytes()).isEqualTo(s.largestFreeBlock()).isEqualTo(MiB + PAGE);
            assertThat(s.externalFragmentation()).isZero();
            h.free(a);
            h.trim();
            assertThat(h.stats().committedBytes()).isZero();
            assertThat(h.stats().freeBytes()).isZero();
        }
    }

    @Test
    void roundingFollowsAMediumBlockResizedInPlace() {
        try (Heap h = heap()) {
            long a = h.malloc(40_960); // exactly its class: no rounding
            h.trim();
            assertNothingFreeButRuns(h, "malloc");
            assertThat(h.realloc(a, 37_000)).isEqualTo(a); // same class: shrunk in place, 3,960 bytes of rounding
            assertNothingFreeButRuns(h, "shrunk in place");
            assertThat(h.realloc(a, 40_000)).isEqualTo(a);
            assertNothingFreeButRuns(h, "grown in place");
            h.free(a);
            h.trim();
            assertThat(h.stats().committedBytes()).isZero();
            assertNothingFreeButRuns(h, "freed");
        }
    }

    @Test
    void aFreedMediumBlockIsFreeWhenAnotherThreadFreesIt() throws InterruptedException {
        try (Heap h = heap()) {
            long a = h.malloc(100_000); // the 104 KiB class: 6,496 bytes of rounding
            h.trim();
            Thread other = Thread.ofPlatform().start(() -> h.free(a));
            other.join();
            // Freed by another thread, not collected yet by this one: the whole slab is free, its rounding with it
            HeapStats s = h.stats();
            assertThat(s.liveBytes()).isZero();
            assertThat(s.committedBytes()).isEqualTo(104 * 1024);
            assertThat(s.freeBytes()).as("the emptied slab").isEqualTo(104 * 1024);
            h.trim();
            assertThat(h.stats().committedBytes()).isZero();
            assertNothingFreeButRuns(h, "trimmed");
        }
    }

    @Test
    void aVirtualThreadsMediumBlockFreedByThisThread() throws InterruptedException {
        try (Heap h = heap()) {
            AtomicLong block = new AtomicLong();
            Thread.ofVirtual().start(() -> block.set(h.malloc(100_000))).join(); // from a stripe shared by them
            h.trim();
            HeapStats s = h.stats();
            assertThat(s.liveBytes()).isEqualTo(100_000);
            assertThat(s.committedBytes()).isEqualTo(104 * 1024);
            assertThat(s.freeBytes()).isZero();
            h.free(block.get()); // a remote free into the stripe
            s = h.stats();
            assertThat(s.liveBytes()).isZero();
            assertThat(s.freeBytes()).isEqualTo(s.committedBytes()).isEqualTo(104 * 1024);
            h.trim();
            assertThat(h.stats().committedBytes()).isZero();
            assertNothingFreeButRuns(h, "trimmed");
        }
    }

    @Test
    void aDeadThreadsMediumBlockKeepsItsRoundingWhenItsCacheIsAdopted() throws InterruptedException {
        try (Heap h = heap()) {
            AtomicLong block = new AtomicLong();
            Thread other = Thread.ofPlatform().start(() -> block.set(h.malloc(100_000)));
            other.join();
            h.trim(); // adopts the dead thread's cache: its block is live in this thread's now
            HeapStats s = h.stats();
            assertThat(s.liveBytes()).isEqualTo(100_000);
            assertThat(s.committedBytes()).isEqualTo(104 * 1024);
            assertThat(s.freeBytes()).isZero();
            assertThat(s.externalFragmentation()).isZero();
            h.free(block.get());
            h.trim();
            assertThat(h.stats().committedBytes()).isZero();
            assertNothingFreeButRuns(h, "freed after the adoption");
        }
    }

    @Test
    void aMediumBlockFreedIntoADeadThreadsCacheIsFreeOnceAdopted() throws InterruptedException {
        try (Heap h = heap()) {
            AtomicLong block = new AtomicLong();
            Thread other = Thread.ofPlatform().start(() -> block.set(h.malloc(100_000)));
            other.join();
            h.free(block.get()); // a remote free into the dead thread's cache, not adopted yet
            HeapStats s = h.stats();
            assertThat(s.liveBytes()).isZero();
            assertThat(s.freeBytes()).isEqualTo(s.committedBytes()).isEqualTo(104 * 1024);
            h.trim(); // adopts it: its emptied slab goes back
            assertThat(h.stats().committedBytes()).isZero();
            assertNothingFreeButRuns(h, "adopted and trimmed");
        }
    }
}
