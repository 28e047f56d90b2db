package org.malloc4j.arrow;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.junit.jupiter.api.Test;
import org.malloc4j.Heap;
import org.malloc4j.HeapSnapshot;
import org.malloc4j.LeakReport;

/** What the allocation manager promises: malloc's own blocks, leak sites in the program, Arrow's OOM. */
class ArrowHeapContractTest {
    private static RootAllocator root(Heap heap) {
        return new RootAllocator(RootAllocator.configBuilder()
                .allocationManagerFactory(Malloc4jAllocationManager.factory(heap)).build());
    }

    /** Class comment: a power of two of 64 B or more gets the same block as malloc(size) (a cached slab block). */
    @Test
    void a64KiBBufferIsTheBlockMallocWouldGive() {
        for (long size = 64; size <= 256 * 1024; size <<= 1) {
            List<Integer> viaMalloc;
            try (Heap heap = Heap.builder().name("m").build()) {
                heap.malloc(size);
                viaMalloc = heap.snapshot().classes().stream().map(HeapSnapshot.SizeClassUsage::blockSize).toList();
            }
            List<Integer> viaArrow;
            try (Heap heap = Heap.builder().name("a").build(); BufferAllocator root = root(heap)) {
                ArrowBuf buf = root.buffer(size);
                viaArrow = heap.snapshot().classes().stream().map(HeapSnapshot.SizeClassUsage::blockSize).toList();
                buf.close();
            }
            assertThat(viaArrow).as("size classes used for a buffer of %d bytes", size).isEqualTo(viaMalloc);
        }
    }

    /** LeakReport.Entry.site: "the first frame outside malloc4j": for an Arrow buffer, the program's frame. */
    @Test
    void aLeakedVectorIsReportedAtTheProgramsSite() {
        try (Heap heap = Heap.builder().name("sites").trackSites(1).build()) {
            BufferAllocator root = root(heap);
            IntVector v = new IntVector("leaked", root);
            v.allocateNew(1000);
            LeakReport report = heap.leaks();
            assertThat(report.entries()).isNotEmpty();
            assertThat(report.entries()).allSatisfy(e -> assertThat(e.site())
                    .as("site %s", e.site())
                    .anySatisfy(f -> assertThat(f.getClassName()).isEqualTo(ArrowHeapContractTest.class.getName())));
            v.close();
            root.close();
        }
    }

    @Test
    void anImpossiblyLargeBufferIsArrowsOutOfMemoryAndGivesItsReservationBack() {
        try (Heap heap = Heap.builder().name("huge").build(); BufferAllocator root = root(heap)) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> root.buffer(1L << 62))
                    .isInstanceOf(org.apache.arrow.memory.OutOfMemoryException.class);
            assertThat(root.getAllocatedMemory()).isZero();
            ArrowBuf big = root.buffer((16L << 20) + 1); // above Arrow's chunk size: not rounded
            assertThat(big.capacity()).isEqualTo((16L << 20) + 1);
            assertThat(big.memoryAddress() % 64).isZero();
            big.setByte(big.capacity() - 1, 7);
            big.close();
            assertThat(heap.stats().liveBytes()).isZero();
        }
    }
}
