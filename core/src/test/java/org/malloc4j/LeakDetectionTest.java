package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
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

    /**
     * Four threads allocate with every site recorded, each freeing a third of its blocks itself and handing another
     * third to the next thread, which frees them (cross-thread frees reach the recorder from the freeing thread), and
     * keeping the rest: the report then holds exactly the kept blocks, every one with its site, and nothing the
     * threads freed; more blocks than the recorder keeps unresolved, so that resolutions run among the frees.
     */
    @Test
    void aReportAfterCrossThreadFreesHoldsExactlyTheBlocksStillLive() throws InterruptedException {
        reportAfterCrossThreadFrees(Thread.ofPlatform(), 4, 3_000);
    }

    /** The same with virtual threads, which share the heap's striped caches and the recorder's stripes. */
    @Test
    void aReportAfterVirtualThreadsFreeAcrossThreadsHoldsExactlyTheBlocksStillLive() throws InterruptedException {
        reportAfterCrossThreadFrees(Thread.ofVirtual(), 64, 300);
    }

    private static void reportAfterCrossThreadFrees(Thread.Builder factory, int threads, int perThread)
            throws InterruptedException {
        try (Heap heap = Heap.builder().trackSites(1).jmx(false).build()) {
            List<BlockingQueue<Long>> handoff = new ArrayList<>();
            for (int t = 0; t < threads; t++) handoff.add(new LinkedBlockingQueue<>());
            long[][] kept = new long[threads][];
            Thread[] workers = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                int me = t;
                workers[t] = factory.start(() -> {
                    List<Long> mine = new ArrayList<>();
                    for (int i = 0; i < perThread; i++) {
                        long p = keptLeak(heap, 16 + (i % 200));
                        switch (i % 3) {
                            case 0 -> heap.free(p);
                            case 1 -> handoff.get((me + 1) % threads).add(p);
                            default -> mine.add(p);
                        }
                        Long other;
                        while ((other = handoff.get(me).poll()) != null) heap.free(other);
                    }
                    kept[me] = mine.stream().mapToLong(Long::longValue).toArray();
                });
            }
            for (Thread w : workers) w.join();
            for (var queue : handoff) for (Long p : queue) heap.free(p); // handed over after their receiver ended
            Set<Long> live = new HashSet<>();
            for (long[] ks : kept) for (long p : ks) live.add(p);
            long blocks = live.size();
            LeakReport report = heap.leaks();
            assertThat(report.liveBlocks()).isEqualTo(blocks);
            assertThat(report.unattributedBlocks()).isZero();
            assertThat(report.entries()).hasSize(1);
            LeakReport.Entry entry = report.entries().getFirst();
            assertThat(entry.site().getFirst().getMethodName()).isEqualTo("keptLeak");
            assertThat(entry.blocks()).isEqualTo(blocks);
            assertThat(entry.bytes()).isEqualTo(report.liveBytes());
            assertThat(live).containsAll(entry.addresses());
            for (long p : live) heap.free(p);
            assertThat(heap.leaks().isEmpty()).isTrue();
        }
    }

    private static long keptLeak(Heap heap, long size) {
        return heap.malloc(size);
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
            long[] small = new long[100_000];
            for (int i = 0; i < small.length; i++) small[i] = heap.malloc(256);
            LeakReport report = heap.leaks();
            assertThat(report.entries()).anySatisfy(e -> assertThat(e.addresses()).contains(big));
            long sampledSmall = report.entries().stream().filter(e -> !e.addresses().contains(big))
                    .mapToLong(LeakReport.Entry::blocks).sum();
            // 100,000 blocks of 256 B = 25 MiB at one sample per 512 KiB on average: Poisson with mean 50, so
            // none at all has a chance of e^-50 (with 20,000 blocks it was e^-10, one CI run in 22,000), and over 120
            // is more than nine deviations away.
            assertThat(sampledSmall).isBetween(1L, 120L);
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

    @Test
    void aSegmentThatAnInPlaceReallocateReplacedDoesNotReportItsBlock() {
        // The old and the new segment share the block and its site record: only the newest may report it, or
        // dropping the old one (as reallocate's contract says) reclaims a block the program still uses.
        try (Heap heap = Heap.builder().trackSites(1).reclaimLeaks(true).jmx(false).build()) {
            MemorySegment s = heap.allocate(100);
            MemorySegment t = heap.reallocate(s, 110); // the same size class: in place
            assertThat(t.address()).isEqualTo(s.address());
            java.lang.ref.WeakReference<MemorySegment> old = new java.lang.ref.WeakReference<>(s);
            s = null;
            awaitGc(() -> old.get() == null);
            // Rounds of a dropped control block, each reclaimed by the cleaner: the old segment's cleanup, due since
            // before the first, has run by the end of the last (a reclaim three collections after the drop was seen
            // without the fix; these are at least six)
            for (int round = 0; round < 6; round++) {
                dropSegment(heap);
                awaitGc(() -> heap.stats().liveBlocks() <= 1);
            }
            assertThat(old.get()).isNull();
            assertThat(heap.stats().liveBlocks()).isEqualTo(1);
            t.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 109, (byte) 1);
            heap.free(t);
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    @Test
    void aLeakReportCountsABlockGrownInPlaceAtItsSizeNow() {
        try (Heap heap = Heap.builder().trackSites(1).jmx(false).build()) {
            long p = heap.malloc(1 << 20);
            long q = heap.realloc(p, 3 << 20); // the page run grows into the free pages after it
            assertThat(q).isEqualTo(p);
            LeakReport.Entry e = heap.leaks().entries().getFirst();
            assertThat(e.bytes()).isEqualTo(3 << 20);
            assertThat(e.estimatedBytes()).isEqualTo(e.bytes()); // every block recorded: the estimate is exact
            heap.free(q);
        }
    }

    @Test
    void aReclaimedLeakWhoseBlockWasDamagedIsStillReportedWithItsDamage() {
        // The reclaiming free finds the overflow and throws on the cleaner's thread: the damage is kept for verify()
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).reclaimLeaks(true).jmx(false).build()) {
            long address = overflowAndDrop(heap);
            List<HeapDamage> damage = new ArrayList<>();
            // verify() hands over the kept damage once; the cleaner keeps it just after the block's free
            awaitGc(() -> heap.stats().liveBlocks() == 0 && damage.addAll(heap.verify()));
            assertThat(heap.stats().liveBlocks()).isZero();
            assertThat(damage).anySatisfy(d -> {
                assertThat(d.address()).isEqualTo(address);
                assertThat(d.kind()).isEqualTo(HeapDamage.Kind.OVERFLOW);
            });
        }
    }

    private static long overflowAndDrop(Heap heap) {
        MemorySegment s = heap.allocate(64);
        // The canary's byte inverted: a fixed value would match it in one heap of 256 (it derives from a secret)
        MemorySegment tail = MemorySegment.ofAddress(s.address() + 64).reinterpret(1);
        java.lang.foreign.ValueLayout.OfByte b = java.lang.foreign.ValueLayout.JAVA_BYTE;
        tail.set(b, 0, (byte) ~tail.get(b, 0));
        return s.address();
    }

    @Test
    void closeOfAFailOnLeakHeapThrowsTheQuarantinesDamageWithTheLeaksSuppressed() {
        Heap heap = Heap.builder().mode(HeapMode.CHECKED).failOnLeak(true).jmx(false).build();
        heap.malloc(32); // leaked
        long b = heap.malloc(64);
        heap.free(b);
        MemorySegment.ofAddress(b).reinterpret(64).set(java.lang.foreign.ValueLayout.JAVA_BYTE, 3, (byte) 7);
        assertThatThrownBy(heap::close).isInstanceOf(HeapCorruptionException.class)
                .satisfies(e -> {
                    assertThat(((HeapCorruptionException) e).damage().kind())
                            .isEqualTo(HeapDamage.Kind.WRITE_AFTER_FREE);
                    assertThat(e.getSuppressed()).singleElement().isInstanceOf(HeapLeakException.class);
                });
        assertThat(heap.toString()).contains("closed");
    }

    @Test
    void closeWaitsForALeakTheCleanerIsReclaiming() throws Exception {
        // The cleaner's thread frees unreachable blocks while the program closes the heap: without the close gate,
        // a free that had passed the open check read the page map after close unmapped it (a JVM crash).
        try (AutoCloseable quiet = quietLeakReports()) { // thousands of leaks, each reported with its site
            for (int round = 0; round < 40; round++) {
                // CHECKED reads the block's header with no lock; FAST takes the page lock and reads the page map
                Heap heap = (round % 2 == 0 ? Heap.builder().mode(HeapMode.CHECKED) : Heap.builder().trackSites(1))
                        .reclaimLeaks(true).jmx(false).build();
                for (int i = 0; i < 400; i++) {
                    heap.allocate(300 << 10).set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 1);
                }
                awaitGc(() -> heap.stats().liveBlocks() < 390); // the cleaner has begun: close while it goes on
                heap.close();
                assertThat(heap.toString()).contains("closed");
            }
        }
    }

    /**
     * Turns the heap's logger off until closed. Through reflection: the tests compile inside the core's module, which
     * reads no logging module (the heap logs through {@link System.Logger}, which the JDK backs with java.logging).
     */
    private static AutoCloseable quietLeakReports() throws ReflectiveOperationException {
        Class<?> logger = Class.forName("java.util.logging.Logger"), level = Class.forName("java.util.logging.Level");
        Object log = logger.getMethod("getLogger", String.class).invoke(null, "org.malloc4j");
        Object before = logger.getMethod("getLevel").invoke(log);
        logger.getMethod("setLevel", level).invoke(log, level.getField("OFF").get(null));
        return () -> logger.getMethod("setLevel", level).invoke(log, before);
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
