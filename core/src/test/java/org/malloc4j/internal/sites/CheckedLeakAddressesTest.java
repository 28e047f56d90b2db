package org.malloc4j.internal.sites;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.malloc4j.Internals.await;
import static org.malloc4j.Internals.field;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.StampedLock;
import org.junit.jupiter.api.Test;
import org.malloc4j.Heap;
import org.malloc4j.HeapCorruptionException;
import org.malloc4j.HeapMode;
import org.malloc4j.LeakReport;

/**
 * A CHECKED heap's leak report names every block at the address the program holds, with the program's size: never at
 * the engine's address (the red zone's start, which the program never saw) with the engine's size, whether the
 * block's header was overwritten or the block was freed while the report was being made.
 */
class CheckedLeakAddressesTest {
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private static void flip(long address) {
        ALL.set(ValueLayout.JAVA_BYTE, address, (byte) ~ALL.get(ValueLayout.JAVA_BYTE, address));
    }

    @Test
    void aBlockWhoseHeaderWasOverwrittenIsListedAtTheProgramsAddressAndSize() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).trackSites(1).jmx(false).build()) {
            long p = heap.malloc(100);
            long q = heap.alignedAlloc(256, 40);
            flip(p - 1); // an underflow into the check word
            flip(q - 1);
            LeakReport report = heap.leaks();
            assertThat(report.entries()).flatMap(LeakReport.Entry::addresses).containsExactlyInAnyOrder(p, q);
            assertThat(report.entries().stream().mapToLong(LeakReport.Entry::bytes).sum()).isEqualTo(140);
            assertThat(report.unattributedBlocks()).isZero();
            assertThatThrownBy(() -> heap.free(p)).isInstanceOf(HeapCorruptionException.class);
            assertThatThrownBy(() -> heap.free(q)).isInstanceOf(HeapCorruptionException.class);
        }
    }

    /**
     * The report has copied the block's record when the program frees the block and the heap gives its pages back
     * (they read as zeros): the block is not listed, and in particular not at its engine address.
     */
    @Test
    void aBlockFreedWhileTheReportIsMadeIsNotListedAtItsEngineAddress() throws Exception {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(0).trackSites(1).jmx(false).build()) {
            // The report reads the stripes in order: holding the last one stops it after it copied b's record. A
            // block whose record falls in the last stripe (one in 32, by its address) is freed and another taken
            int last = 31;
            long p = heap.malloc(1 << 20);
            while (LiveRecords.stripeIndex(LiveRecords.hash(p - 16)) == last) {
                long again = heap.malloc(1 << 20);
                heap.free(p);
                p = again;
            }
            long b = p - 16;
            Object core = field(heap, Heap.class, "core");
            SiteRecorder sites = (SiteRecorder) field(core, core.getClass(), "sites");
            LiveRecords live = (LiveRecords) field(sites, SiteRecorder.class, "live");
            Object[] stripes = (Object[]) field(live, LiveRecords.class, "stripes");
            StampedLock lock = (StampedLock) field(stripes[last], stripes[last].getClass(), "lock");
            AtomicReference<LeakReport> report = new AtomicReference<>();
            long stamp = lock.writeLock();
            Thread reporter;
            try {
                reporter = Thread.ofPlatform().start(() -> report.set(heap.leaks()));
                assertThat(await(() -> reporter.getState() == Thread.State.WAITING)).isTrue();
                heap.free(p);
                heap.trim(); // the freed run's pages go back to the OS
            } finally {
                lock.unlockWrite(stamp);
            }
            reporter.join();
            assertThat(report.get().entries()).flatMap(LeakReport.Entry::addresses).doesNotContain(b);
            assertThat(report.get().entries()).isEmpty();
        }
    }
}
