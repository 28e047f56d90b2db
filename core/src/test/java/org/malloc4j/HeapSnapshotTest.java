package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The snapshot a heap map is drawn from agrees with what the program did. */
class HeapSnapshotTest {
    @Test
    void runsTileTheUsedRangeAndClassesCountLiveBlocks() {
        try (Heap heap = Heap.builder().decay(Duration.ofHours(1)).build()) {
            long[] small = new long[1000];
            for (int i = 0; i < small.length; i++) small[i] = heap.malloc(100);
            long medium = heap.malloc(400_000); // above the cached classes: a page run of its own
            long gone = heap.malloc(500_000);
            heap.free(gone);
            for (int i = 0; i < small.length; i += 2) heap.free(small[i]);

            HeapSnapshot snap = heap.snapshot();
            long expectedOffset = 0;
            for (HeapSnapshot.Run r : snap.runs()) {
                assertThat(r.offset()).isEqualTo(expectedOffset); // runs tile the range, in order
                expectedOffset += r.bytes();
            }
            assertThat(snap.runs()).anyMatch(r -> r.kind() == HeapSnapshot.Kind.BLOCK && r.blockSize() == 400_000);
            assertThat(snap.runs()).anyMatch(r -> r.kind() == HeapSnapshot.Kind.FREE_DIRTY && r.bytes() >= 500_000);
            HeapSnapshot.SizeClassUsage c112 = snap.classes().stream().filter(c -> c.blockSize() == 112)
                    .findFirst().orElseThrow();
            assertThat(c112.liveBlocks()).isEqualTo(500);
            assertThat(c112.requestedBytes()).isEqualTo(500 * 100);
            assertThat(c112.wasteBytes()).isEqualTo(500 * 12);
            assertThat(snap.runs().stream().filter(r -> r.kind() == HeapSnapshot.Kind.SLAB)
                    .mapToInt(HeapSnapshot.Run::liveBlocks).sum()).isEqualTo(500);

            for (int i = 1; i < small.length; i += 2) heap.free(small[i]);
            heap.free(medium);
        }
    }
}
