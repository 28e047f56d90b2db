package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * A medium slab given back leaves the back offsets of its pages in the heap's interior map (clearing them cost a loop
 * over its pages on every give-back): a smaller medium slab made later at the same address must not claim the pages
 * beyond its own, whose stale offsets point back to it, and a free of an address there is refused as an address in
 * free memory, not as one inside that block.
 */
class StaleMediumBackOffsetsTest {
    private static final long PAGE = 4096;

    @Test
    void aSmallerSlabAtTheSameAddressDoesNotClaimThePagesPastItsEnd() {
        try (Heap heap = Heap.builder().spareBytes(0).build()) { // no spare: a freed medium slab goes back at once
            long wide = heap.malloc(256 << 10); // 64 pages, offsets 1 to 63 written on pages 2 to 64
            heap.free(wide);
            long narrow = heap.malloc(40 << 10); // 10 pages
            assertThat(narrow).as("the narrow slab reuses the wide one's first pages").isEqualTo(wide);
            long beyond = wide + 20 * PAGE + 16; // its stale offset, 20, points back to the narrow slab's first page
            assertThatThrownBy(() -> heap.free(beyond)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining(Long.toHexString(beyond)).hasMessageContaining("not a live block")
                    .hasMessageNotContaining("inside");
            long within = wide + 5 * PAGE + 16; // written again when the narrow slab was made
            assertThatThrownBy(() -> heap.free(within)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("inside the").hasMessageContaining(Long.toHexString(narrow));
            heap.free(narrow);
            assertThat(heap.stats().liveBytes()).isZero();
            assertThat(heap.verify()).isEmpty();
        }
    }
}
