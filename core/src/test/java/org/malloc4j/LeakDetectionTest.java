package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** Allocation sites, leak reports, failOnLeak, and leaks found by the garbage collector. */
class LeakDetectionTest {

    @Test
    void leaksGroupsLiveBlocksBySiteLargestFirst() {
        try (Heap heap = Heap.builder().trackSites(1).jmx(false).build()) {
            long a1 = smallLeak(heap), a2 = smallLeak(heap), a3 = smallLeak(heap);
            long b = bigLeak(heap);
            long freed = smallLeak(heap);
            heap.free(freed);
            LeakReport report = heap.leaks();
            assertThat(report.liveBlocks()).isEqualTo(4);
            assertThat(report.liveBytes()).isEqualTo(3 * 100 + 50_000);
            assertThat(report.unattributedBlocks()).isZero();
            assertThat(report.entries()).hasSize(2);
            LeakReport.Entry first = report.entries().get(0), second = report.entries().get(1);
            assertThat(first.site().getFirst().getMethodName()).isEqualTo("bigLeak");
            assertThat(first.blocks()).isEqualTo(1);
            assertThat(first.bytes()).isEqualTo(50_000);
            assertThat(first.addresses()).containsExactly(b);
            assertThat(second.site().getFirst().getMethodName()).isEqualTo("smallLeak");
            assertThat(second.blocks()).isEqualTo(3);
            assertThat(second.addresses()).containsExactlyInAnyOrder(a1, a2, a3);
            assertThat(second.threads()).containsExactly(Thread.currentThread().getName());
            assertThat(report.toString()).contains("bigLeak").contains("smallLeak").contains("4 live block(s)");
            heap.free(a1);
            heap.free(a2);
            heap.free(a3);
            heap.free(b);
            assertThat(heap.leaks().isEmpty()).isTrue();
            assertThat(heap.leaks().entries()).isEmpty();
        }
    }

    private static long smallLeak(Heap heap) {
        return heap.malloc(100);
    }

    private static long bigLeak(Heap heap) {
        return heap.malloc(50_000);
    }

    @Test
    void checkedHeapsReportTheProgramsAddressesAndSizes() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).trackSites(1).jmx(false).build()) {
            long p = smallLeak(heap);
            long q = heap.alignedAlloc(4096, 10);
            heap.free(heap.malloc(7)); // in quarantine: not live, not reported
            LeakReport report = heap.leaks();
            assertThat(report.liveBlocks()).isEqualTo(2);
            assertThat(report.liveBytes()).isEqualTo(110);
            assertThat(report.entries()).flatMap(LeakReport.Entry::addresses).containsExactlyInAnyOrder(p, q);
            assertThat(report.entries().stream().mapToLong(LeakReport.Entry::bytes).sum()).isEqualTo(110);
            heap.free(p);
            heap.free(q);
        }
    }

    @Test
    void sampledSitesAlwaysSeeLargeBlocksAndEstimateTheRest() {
        try (Heap heap = Heap.builder().trackSites(0.001).jmx(false).build()) {
            long big = heap.malloc(64L << 20);
            long[] small = new long[20_000];
            for (int i = 0; i < small.length; i++) small[i] = heap.malloc(256);
            LeakReport report = heap.leaks();
            assertThat(report.entries()).anySatisfy(e -> assertThat(e.addresses()).contains(big));
            long sampledSmall = report.entries().stream().filter(e -> !e.addresses().contains(big))
                    .mapToLong(LeakReport.Entry::blocks).sum();
            // 20,000 blocks of 256 B = 5 MiB at one sample per 512 KiB on average: about 10, rarely 0 or 40.
            assertThat(sampledSmall).isBetween(1L, 40L);
            assertThat(report.unattributedBlocks()).isEqualTo(small.length - sampledSmall);
            heap.free(big);
            for (long p : small) heap.free(p);
            assertThat(heap.leaks().entries()).isEmpty();
        }
    }

    @Test
    void failOnLeakThrowsTheReportFromCloseAndStillClosesTheHeap() {
        Heap heap = Heap.builder().trackSites(1).failOnLeak(true).jmx(false).build();
        long kept = smallLeak(heap);
        heap.free(heap.malloc(10));
        heap.stack().push().close(); // a stack's block is the heap's own, never a leak
        assertThatThrownBy(heap::close).isInstanceOf(HeapLeakException.class)
                .hasMessageContaining("1 live block(s), 100 bytes").hasMessageContaining("smallLeak")
                .satisfies(e -> assertThat(((HeapLeakException) e).report().entries().getFirst().addresses())
                        .containsExactly(kept));
        assertThatThrownBy(() -> heap.malloc(1)).isInstanceOf(IllegalStateException.class);
        heap.close(); // closing twice does nothing
    }

    @Test
    void failOnLeakIsQuietWhenEverythingWasFreed() {
        Heap heap = Heap.builder().failOnLeak(true).jmx(false).build();
        heap.free(heap.malloc(10));
        heap.close();
        assertThat(heap.toString()).contains("closed");
    }

    @Test
    void anUnreachableSegmentIsReportedAndReclaimed() {
        try (Heap heap = Heap.builder().trackSites(1).reclaimLeaks(true).jmx(false).build()) {
            dropSegment(heap);
            MemorySegment kept = heap.allocate(64);
            awaitGc(() -> heap.stats().liveBlocks() == 1);
            assertThat(heap.stats().liveBlocks()).isEqualTo(1);
            heap.free(kept);
        }
    }

    @Test
    void anUnreachableSegmentOfACheckedHeapIsReclaimedAndAKeptOneIsNot() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).reclaimLeaks(true).jmx(false).build()) {
            dropSegment(heap);
            MemorySegment kept = heap.allocate(64);
            MemorySegment slice = kept.asSlice(8);
            kept = null;
            awaitGc(() -> heap.stats().liveBlocks() == 1);
            assertThat(heap.stats().liveBlocks()).isEqualTo(1);
            slice.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 1); // still accessible: its block lives
            heap.free(slice.address() - 8);
        }
    }

    private static void dropSegment(Heap heap) {
        MemorySegment s = heap.allocate(1000);
        s.fill((byte) 1);
    }

    /** Runs the collector until {@code done} holds or 20 s have passed (the cleaner thread runs asynchronously). */
    private static void awaitGc(BooleanSupplier done) {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!done.getAsBoolean() && System.nanoTime() < deadline) {
            System.gc();
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
