package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * CHECKED: a free that pushes a block written after free out of quarantine throws that block's damage, but the free
 * itself is done. Its message named only the damaged block ("a block leaving quarantine in heap ...: block 0x...
 * write after free"), so that a program reading it could take its own free for refused and free the block again.
 */
class CheckedFreeThatFindsAnotherBlocksDamageTest {

    @Test
    void theMessageNamesTheFreedBlockAndSaysItsFreeIsDone() {
        // 96 bytes a 64-byte block with its red zones: one fits the quarantine, the next free pushes it out
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(96).jmx(false).build()) {
            long p = heap.malloc(64), q = heap.malloc(64);
            heap.free(p);
            Blocks.ALL.set(ValueLayout.JAVA_BYTE, p + 8, (byte) 1); // a write after free
            String qHex = "0x" + Long.toHexString(q), pHex = "0x" + Long.toHexString(p);
            assertThatThrownBy(() -> heap.free(q)).isInstanceOf(HeapCorruptionException.class)
                    .hasMessageStartingWith("free of " + qHex + " in heap " + heap.name() + " done")
                    .hasMessageContaining("block " + pHex + " (64 bytes): write after free")
                    .satisfies(e -> assertThat(((HeapCorruptionException) e).damage().address()).isEqualTo(p));
            assertThat(heap.stats().liveBlocks()).isZero();
            assertThatThrownBy(() -> heap.free(q)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("double free");
            assertThat(heap.verify()).isEmpty();
        }
    }

    @Test
    void aSegmentsFreeSaysTheSame() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(96).jmx(false).build()) {
            MemorySegment p = heap.allocate(64), q = heap.allocate(64);
            heap.free(p);
            Blocks.ALL.set(ValueLayout.JAVA_BYTE, p.address() + 8, (byte) 1);
            assertThatThrownBy(() -> heap.free(q)).isInstanceOf(HeapCorruptionException.class)
                    .hasMessageStartingWith("free of 0x" + Long.toHexString(q.address()) + " in heap " + heap.name()
                            + " done");
            assertThatThrownBy(() -> q.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }
}
