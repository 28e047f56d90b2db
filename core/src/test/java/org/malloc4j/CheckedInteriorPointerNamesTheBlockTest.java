package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every free is validated in every mode, and an interior pointer's refusal names the block it lies in ("inside the
 * 64-byte block at 0x..."), as FAST mode's does. CHECKED mode said only "not the start of a block (blocks are 16-byte
 * aligned)" or "not the start of a live block (never allocated, inside a block, or freed earlier ...)": the program
 * was not told which block its pointer was in, nor that it was inside one at all.
 */
class CheckedInteriorPointerNamesTheBlockTest {
    @ParameterizedTest
    @ValueSource(longs = {24, 1000, 100_000, 5 << 20})
    void anInteriorPointerIsNamedAsInsideItsBlock(long size) {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            long p = heap.malloc(size);
            for (long inside : new long[] {p + 8, p + 16, p + size / 2 & -16L, p + size - 1}) {
                if (inside == p) continue;
                String words = "inside the " + size + "-byte block at " + hex(p) + " (offset " + (inside - p) + ")";
                refused(heap, () -> heap.free(inside), hex(inside), words);
                refused(heap, () -> heap.usableSize(inside), hex(inside), words);
                refused(heap, () -> heap.realloc(inside, 2 * size), hex(inside), words);
            }
            heap.free(p);
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {24, 1000})
    void anAddressInsideAQuarantinedBlockSaysItWasFreed(long size) {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            long p = heap.malloc(size);
            heap.free(p); // waits in quarantine
            refused(heap, () -> heap.free(p + 16), hex(p + 16),
                    "inside the freed " + size + "-byte block at " + hex(p) + " (offset 16)");
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {24, 100_000})
    void anAddressInARedZoneSaysSo(long size) {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            long p = heap.malloc(size);
            long tail = (p + size + 15) & -16L; // the tail red zone, past the block's last byte
            refused(heap, () -> heap.free(tail), hex(tail),
                    "in the red zone of the " + size + "-byte block at " + hex(p) + " (offset " + (tail - p) + ")");
            heap.free(p);
        }
    }

    /**
     * Past the tail canary lies the rest of the engine's block (a slab slot's, a page run's rounding), which no check
     * reads: an address there was said to be "in the red zone" of the block, at an offset far past it (4 KiB past a
     * 1 MiB block's end). It is past the block's end, after its red zone.
     */
    @ParameterizedTest
    @ValueSource(longs = {24, 1 << 20})
    void anAddressPastTheTailRedZoneIsNotCalledInIt(long size) {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            long p = heap.malloc(size);
            // 24 bytes: a 64-byte engine block from p - 16, its last 8 bytes past the tail;
            // 1 MiB: 257 pages from p - 16
            long end = size == 24 ? p - 16 + 64 : p - 16 + (257L << 12);
            for (long past : new long[] {p + size + 16, end - 1}) {
                refused(heap, () -> heap.free(past), hex(past), "past the end of the " + size + "-byte block at "
                        + hex(p) + " (offset " + (past - p) + "), after its red zone");
                assertThatThrownBy(() -> heap.free(past)).hasMessageNotContaining("in the red zone");
            }
            heap.free(p);
        }
    }

    private static void refused(Heap heap, ThrowingCallable call, String... words) {
        List<Long> before = Blocks.state(heap.stats());
        assertThatThrownBy(call).isInstanceOf(InvalidFreeException.class).hasMessageContainingAll(words);
        assertThat(Blocks.state(heap.stats())).as("stats after the refusal").isEqualTo(before);
        HeapErrorTest.assertStillWorks(heap);
    }

    private static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }
}
