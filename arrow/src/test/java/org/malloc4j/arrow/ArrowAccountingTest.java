package org.malloc4j.arrow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletableFuture;
import org.apache.arrow.memory.AllocationManager;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.malloc4j.Heap;
import org.malloc4j.HeapExhaustedException;

/** Arrow's own accounting (child allocators, limits, leak on close) on top of the malloc4j manager. */
class ArrowAccountingTest {
    private static final long MiB = 1 << 20;

    private Heap heap;
    private AllocationManager.Factory factory;

    @BeforeEach
    void dedicatedHeap() {
        heap = Heap.builder().name("arrow-accounting").build();
        factory = Malloc4jAllocationManager.factory(heap);
    }

    @AfterEach
    void closeHeap() {
        heap.close();
    }

    @Test
    void buffersAreHeapBlocksOfTheRoundedSizeAndGoBackOnRelease() {
        try (BufferAllocator root = Rows.rootAllocator(factory)) {
            ArrowBuf buf = root.buffer(1000);
            assertThat(buf.capacity()).as("Arrow rounds to a power of two").isEqualTo(1024);
            assertThat(buf.memoryAddress() % Malloc4jAllocationManager.ALIGNMENT).isZero();
            assertThat(heap.usableSize(buf.memoryAddress())).isGreaterThanOrEqualTo(1024);
            assertThat(heap.stats().liveBytes()).isGreaterThanOrEqualTo(1024);
            assertThat(root.getAllocatedMemory()).isEqualTo(1024);

            for (int i = 0; i < 1024; i += 4) buf.setInt(i, i * 31);
            for (int i = 0; i < 1024; i += 4) assertThat(buf.getInt(i)).isEqualTo(i * 31);

            buf.close();
            assertThat(root.getAllocatedMemory()).isZero();
            assertThat(heap.stats().liveBytes()).isZero();
        }
    }

    @Test
    void childAllocatorsAccountTheirOwnAndTheirParentsMemory() {
        try (BufferAllocator root = Rows.rootAllocator(factory)) {
            BufferAllocator a = root.newChildAllocator("a", 0, Long.MAX_VALUE);
            BufferAllocator b = root.newChildAllocator("b", 0, Long.MAX_VALUE);
            BufferAllocator a1 = a.newChildAllocator("a1", 0, Long.MAX_VALUE);
            ArrowBuf inA = a.buffer(4096);
            ArrowBuf inB = b.buffer(MiB);
            ArrowBuf inA1 = a1.buffer(64 * 1024);

            assertThat(a1.getAllocatedMemory()).isEqualTo(64 * 1024);
            assertThat(a.getAllocatedMemory()).isEqualTo(4096 + 64 * 1024);
            assertThat(b.getAllocatedMemory()).isEqualTo(MiB);
            assertThat(root.getAllocatedMemory()).isEqualTo(4096 + 64 * 1024 + MiB);
            assertThat(heap.stats().liveBytes()).isGreaterThanOrEqualTo(root.getAllocatedMemory());
            assertThat(heap.stats().liveBlocks()).isEqualTo(3);

            // Hand a1's buffer over to b: the memory moves in Arrow's books, not in the heap.
            long mallocs = heap.stats().mallocCount();
            var transfer = inA1.getReferenceManager().transferOwnership(inA1, b);
            inA1.close();
            a1.close();
            assertThat(a.getAllocatedMemory()).isEqualTo(4096);
            assertThat(b.getAllocatedMemory()).isEqualTo(MiB + 64 * 1024);
            assertThat(heap.stats().mallocCount()).isEqualTo(mallocs);
            ArrowBuf moved = transfer.getTransferredBuffer();
            assertThat(moved.getReferenceManager().getAllocator()).isSameAs(b);

            // A slice shares the block: releasing the buffer keeps it alive while the slice holds a reference.
            ArrowBuf slice = inB.slice(0, 512);
            slice.getReferenceManager().retain();
            inB.close();
            assertThat(heap.stats().liveBlocks()).isEqualTo(3);
            slice.getReferenceManager().release();
            assertThat(heap.stats().liveBlocks()).isEqualTo(2);

            inA.close();
            moved.close();
            a.close();
            b.close();
            assertThat(root.getAllocatedMemory()).isZero();
        }
        assertThat(heap.stats().liveBytes()).isZero();
    }

    @Test
    void aChildsLimitRefusesAllocationsBeyondIt() {
        try (BufferAllocator root = Rows.rootAllocator(factory);
             BufferAllocator child = root.newChildAllocator("limited", 0, MiB)) {
            ArrowBuf half = child.buffer(MiB / 2);
            long mallocs = heap.stats().mallocCount();

            assertThatThrownBy(() -> child.buffer(MiB / 2 + 1)) // rounded to 1 MiB: beyond the limit
                    .isInstanceOf(OutOfMemoryException.class)
                    .hasMessageContaining("Unable to allocate buffer");
            assertThat(heap.stats().mallocCount()).as("Arrow refuses before asking the heap").isEqualTo(mallocs);
            assertThat(child.getAllocatedMemory()).isEqualTo(MiB / 2);

            try (IntVector tooBig = new IntVector("too-big", child)) {
                assertThat(tooBig.allocateNewSafe()).isTrue(); // the default 3970 values fit
                tooBig.setInitialCapacity(1_000_000);
                assertThat(tooBig.allocateNewSafe()).as("4 MB of ints in a 1 MiB child").isFalse();
            }
            ArrowBuf rest = child.buffer(MiB / 2); // exactly up to the limit
            assertThat(child.getAllocatedMemory()).isEqualTo(MiB);
            rest.close();
            half.close();
        }
        assertThat(heap.stats().liveBytes()).isZero();
    }

    @Test
    void aRootLimitIsArrowsNotTheHeaps() {
        try (BufferAllocator root = new RootAllocator(RootAllocator.configBuilder()
                .allocationManagerFactory(factory).maxAllocation(4 * MiB).build())) {
            ArrowBuf buf = root.buffer(4 * MiB);
            assertThatThrownBy(() -> root.buffer(1)).isInstanceOf(OutOfMemoryException.class);
            buf.close();
            root.buffer(1).close();
        }
        assertThat(heap.stats().liveBytes()).isZero();
    }

    @Test
    void anExhaustedHeapIsArrowsOutOfMemoryException() {
        try (Heap small = Heap.builder().name("arrow-small").limit(8 * MiB).build()) {
            try (BufferAllocator root = Rows.rootAllocator(Malloc4jAllocationManager.factory(small))) {
                ArrowBuf fits = root.buffer(4 * MiB);
                assertThatThrownBy(() -> root.buffer(16 * MiB))
                        .isInstanceOf(OutOfMemoryException.class)
                        .hasMessageContaining("arrow-small")
                        .hasCauseInstanceOf(HeapExhaustedException.class);
                assertThat(root.getAllocatedMemory()).as("the reservation is given back").isEqualTo(4 * MiB);

                try (IntVector ints = new IntVector("ints", root)) {
                    ints.setInitialCapacity(2_000_000); // 8 MB of values
                    assertThat(ints.allocateNewSafe()).isFalse();
                }
                fits.close();
                assertThat(root.getAllocatedMemory()).isZero();
            }
            assertThat(small.stats().liveBytes()).isZero();
        }
    }

    @Test
    void closingARootWithAnUnreleasedBufferReportsTheLeak() {
        BufferAllocator root = Rows.rootAllocator(factory);
        ArrowBuf leaked = root.buffer(3000);
        leaked.setLong(0, 42);

        assertThatThrownBy(root::close)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Memory was leaked")
                .hasMessageContaining("4096");
        assertThat(heap.stats().liveBytes()).as("the leak is real in the heap too").isGreaterThanOrEqualTo(4096);
        assertThat(heap.stats().liveBlocks()).isEqualTo(1);
        // Closing the heap (after each test) gives the leaked block back to the OS.
    }

    @Test
    void closingAChildWithAnUnreleasedBufferReportsTheLeakAndTheRootStillCloses() {
        try (BufferAllocator root = Rows.rootAllocator(factory)) {
            BufferAllocator child = root.newChildAllocator("leaky", 0, Long.MAX_VALUE);
            ArrowBuf buf = child.buffer(100);
            assertThatThrownBy(child::close)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("Memory was leaked")
                    .hasMessageContaining("leaky");
            // The child is closed; its buffer is still accounted to the root, and releasing it is refused.
            assertThat(root.getAllocatedMemory()).isEqualTo(128);
            assertThatThrownBy(buf::close).isInstanceOf(IllegalStateException.class);
            assertThat(heap.stats().liveBlocks()).isEqualTo(1);
            assertThatThrownBy(root::close).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("Memory was leaked");
        }
    }

    @Test
    void theEmptyBufferIsSharedAlignedAndNotAHeapBlock() {
        try (BufferAllocator root = Rows.rootAllocator(factory);
             BufferAllocator other = Rows.rootAllocator(Malloc4jAllocationManager.FACTORY)) {
            ArrowBuf empty = root.buffer(0);
            assertThat(empty.capacity()).isZero();
            assertThat(empty).isSameAs(root.getEmpty()).isSameAs(other.buffer(0)).isSameAs(factory.empty());
            assertThat(empty.memoryAddress()).isNotZero();
            assertThat(empty.memoryAddress() % Malloc4jAllocationManager.ALIGNMENT).isZero();
            assertThat(heap.stats().mallocCount()).isZero();
            empty.close(); // a no-op reference manager
            try (IntVector none = new IntVector("none", root)) {
                none.allocateNew(0);
                none.setValueCount(0);
                assertThat(none.getValueCount()).isZero();
            }
            assertThat(root.getAllocatedMemory()).isZero();
        }
        assertThat(heap.stats().liveBytes()).isZero();
    }

    @Test
    void aBufferMayBeReleasedOnAnotherThread() throws Exception {
        try (BufferAllocator root = Rows.rootAllocator(factory)) {
            ArrowBuf[] bufs = new ArrowBuf[100];
            for (int i = 0; i < bufs.length; i++) bufs[i] = root.buffer(64L << (i % 12));
            CompletableFuture.runAsync(() -> {
                for (ArrowBuf b : bufs) b.close();
            }).get();
            assertThat(root.getAllocatedMemory()).isZero();
        }
        assertThat(heap.stats().liveBytes()).isZero();
    }

    @Test
    void theGlobalFactoryUsesTheGlobalHeap() {
        Heap global = Heap.global();
        long mallocs = global.stats().mallocCount();
        long live = global.stats().liveBytes();
        try (BufferAllocator root = Rows.rootAllocator(Malloc4jAllocationManager.FACTORY);
             IntVector ints = new IntVector("ints", root)) {
            ints.allocateNew(100_000);
            for (int i = 0; i < 100_000; i++) ints.set(i, i);
            ints.setValueCount(100_000);
            assertThat(ints.get(99_999)).isEqualTo(99_999);
            assertThat(global.stats().mallocCount()).isGreaterThan(mallocs);
            assertThat(global.stats().liveBytes()).isGreaterThanOrEqualTo(live + 400_000);
        }
        assertThat(global.stats().liveBytes()).isEqualTo(live);
        assertThat(heap.stats().mallocCount()).isZero();
        assertThat(Malloc4jAllocationManager.FACTORY.toString()).contains("global");
    }

    @Test
    void aNullHeapIsRefused() {
        assertThatThrownBy(() -> Malloc4jAllocationManager.factory(null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("heap");
    }
}
