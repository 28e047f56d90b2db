package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * CHECKED: a double free of a block that no longer waits in quarantine (larger than the quarantine, so released at
 * its free, or pushed out of it since) was refused as "not the start of a live block (never allocated, inside a block,
 * or freed earlier and already out of quarantine)", where FAST says "already freed" of the same free: the program was
 * not told that its free was a double free. When the engine knows the block's memory as free, the refusal says so, and
 * names the double free with the block's size when the block's header is still there to read.
 */
class CheckedDoubleFreeOutOfQuarantineTest {
    private static final String VAGUE = "never allocated, inside a block";

    @ParameterizedTest
    @ValueSource(longs = {5 << 20, 6 << 20})
    void aBlockTooLargeForTheQuarantineIsNamedAsDoublyFreed(long size) {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) { // a 4 MiB quarantine
            long p = heap.malloc(size);
            heap.free(p);
            String block = "of block " + Blocks.hex(p) + " (" + size + " bytes)";
            refused(heap, () -> heap.free(p), "double free " + block, "already freed by an earlier free",
                    "no longer in quarantine");
            refused(heap, () -> heap.usableSize(p), "usableSize " + block, "already freed");
            refused(heap, () -> heap.realloc(p, 100), "realloc " + block, "already freed");
            HeapErrorTest.assertStillWorks(heap);
        }
    }

    /** The same from other threads, platform and virtual (a remote free takes other paths through the engine). */
    @Test
    void anotherThreadsDoubleFreeIsNamedAsOne() throws Exception {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            long p = heap.malloc(5 << 20);
            heap.free(p);
            List<Long> before = Blocks.state(heap.stats());
            for (Thread.Builder builder : List.of(Thread.ofPlatform(), Thread.ofVirtual())) {
                Throwable[] thrown = new Throwable[1];
                builder.start(() -> {
                    try {
                        heap.free(p);
                    } catch (Throwable t) {
                        thrown[0] = t;
                    }
                }).join();
                assertThat(thrown[0]).isInstanceOf(InvalidFreeException.class)
                        .hasMessageContaining("double free of block " + Blocks.hex(p) + " (5242880 bytes)")
                        .hasMessageNotContaining(VAGUE);
            }
            assertThat(Blocks.state(heap.stats())).isEqualTo(before);
            assertThat(heap.verify()).isEmpty();
            HeapErrorTest.assertStillWorks(heap);
        }
    }

    @Test
    void aSmallBlockPushedOutOfTheQuarantineIsNamedAsDoublyFreed() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(64 << 10).jmx(false).build()) {
            long keep = heap.malloc(64); // keeps the slab in use
            long p = heap.malloc(64);
            heap.free(p);
            // pushes p out of quarantine; blocks of another class, so that none of them is p again
            for (int i = 0; i < 10_000; i++) heap.free(heap.malloc(200));
            refused(heap, () -> heap.free(p), "double free of block " + Blocks.hex(p) + " (64 bytes)",
                    "no longer in quarantine");
            heap.free(keep);
            HeapErrorTest.assertStillWorks(heap);
        }
    }

    @Test
    void aDoubleFreeOfABlockWhosePagesWentBackSaysTheMemoryIsFree() {
        // Decay 0: the freed block's pages go back to the OS at once, its header with them; the engine still knows
        // its memory as a free page run, and says so, as FAST does
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).decay(Duration.ZERO).jmx(false).build()) {
            long p = heap.malloc(5 << 20);
            heap.free(p);
            refused(heap, () -> heap.free(p), "free of " + Blocks.hex(p),
                    "not a live block: the memory there is already freed (or was never allocated)");
            HeapErrorTest.assertStillWorks(heap);
        }
    }

    @Test
    void aNeverAllocatedBlockOfASlabIsNotCalledADoubleFree() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            long p = heap.malloc(24);
            long never = p + 10 * 64; // a 64-byte engine block (24 bytes and red zones) of its slab, never handed out
            assertThatThrownBy(() -> heap.free(never)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageNotContaining("double free")
                    .hasMessageContaining("already freed (or was never allocated)");
            heap.free(p);
        }
    }

    /**
     * The call is refused with all of {@code words}, not the vague ones, and the heap is left as it was (each test
     * then checks that it still works, after its last refusal: a malloc there could take the freed block's address).
     */
    private static void refused(Heap heap, ThrowingCallable call, String... words) {
        List<Long> before = Blocks.state(heap.stats());
        var thrown = assertThatThrownBy(call).isInstanceOf(InvalidFreeException.class).hasMessageNotContaining(VAGUE);
        for (String w : words) thrown.hasMessageContaining(w);
        assertThat(Blocks.state(heap.stats())).isEqualTo(before);
        assertThat(heap.verify()).isEmpty();
    }
}
