package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A refusal names the address and what it is. An address inside a slab block that is no longer live was described
 * as "inside the 32-byte block at 0x... (offset 8), not at its start", word for word as one inside a live block: the
 * program was sent to a block start whose own free is then refused as "already freed".
 */
class InteriorPointerOfAFreedBlockTest {
    @ParameterizedTest
    @ValueSource(longs = {24, 1000, 100_000})
    void anAddressInsideAFreedBlockSaysTheBlockIsNotLive(long size) {
        try (Heap heap = Heap.builder().jmx(false).build()) {
            long keep = heap.malloc(size); // keeps the slab of a small class in use
            long p = heap.malloc(size);
            long inside = p + 16;
            assertThatThrownBy(() -> heap.free(inside)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("inside the").hasMessageNotContaining("not live");
            heap.free(p);
            List<Long> before = Blocks.state(heap.stats());
            assertThatThrownBy(() -> heap.free(inside)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining(Blocks.hex(inside))
                    .hasMessageContaining(Blocks.hex(p))
                    .hasMessageContaining("not live (already freed, or never allocated)");
            assertThatThrownBy(() -> heap.usableSize(inside)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("not live (already freed, or never allocated)");
            assertThat(Blocks.state(heap.stats())).isEqualTo(before);
            HeapErrorTest.assertStillWorks(heap);
            heap.free(keep);
        }
    }
}
