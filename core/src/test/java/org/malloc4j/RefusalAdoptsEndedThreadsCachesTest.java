package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Thread death (the concurrency issue): the memory cached for a thread that ended goes back to the heap and is reused
 * by other threads. Under a limit, a thread that ended kept its cache's empty slabs (its spares, its current slabs)
 * committed until a live thread's slow path, trim() or the purger's next pass adopted it, and a request in between
 * was refused with nothing live: "cannot allocate 900000 bytes: limit 1048576 bytes, committed 286720, live 0
 * bytes". A refusal gave back the caller's own empty slabs only; now it adopts the ended threads' caches too.
 */
class RefusalAdoptsEndedThreadsCachesTest {
    /** A thread that allocates {@code bytes} in blocks of {@code size} and frees them all, then ends. */
    private static void endedThreadThatUsed(Heap heap, long size, long bytes) throws InterruptedException {
        Thread.ofPlatform().start(() -> {
            List<Long> blocks = new ArrayList<>();
            for (long n = 0; n < bytes; n += size) blocks.add(heap.malloc(size));
            for (long b : blocks) heap.free(b);
        }).join();
    }

    /** A refusal as a test failure: the OutOfMemoryError it is must not reach the test runner's fork. */
    private static long mallocOrFail(Heap heap, long size) {
        try {
            return heap.malloc(size);
        } catch (HeapExhaustedException e) {
            throw new AssertionError("refused: " + e.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {100, 3000, 200_000})
    void aPageRunIsServedWithTheRoomAnEndedThreadsCacheHeld(long size) throws Exception {
        try (Heap heap = Heap.builder().limit(1 << 20).jmx(false).build()) {
            heap.free(heap.malloc(16)); // this thread's cache first: a new cache adopts ended ones as it registers
            endedThreadThatUsed(heap, size, 300_000);
            long p = mallocOrFail(heap, 900_000);
            assertThat(heap.stats().liveBytes()).isEqualTo(900_000);
            heap.free(p);
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {48, 3000, 100_000})
    void smallBlocksAreServedWithTheRoomAnEndedThreadsCacheHeld(long size) throws Exception {
        try (Heap heap = Heap.builder().limit(1 << 20).jmx(false).build()) {
            heap.free(heap.malloc(size));
            endedThreadThatUsed(heap, 200_000, 400_000); // two medium slabs kept empty by the ended thread
            List<Long> blocks = new ArrayList<>();
            for (long n = 0; n < 800_000; n += size) blocks.add(mallocOrFail(heap, size));
            assertThat(heap.stats().liveBytes()).isEqualTo(blocks.size() * size);
            for (long b : blocks) heap.free(b);
        }
    }
}
