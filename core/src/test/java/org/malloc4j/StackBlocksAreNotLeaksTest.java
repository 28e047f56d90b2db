package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A thread's stack block is the heap's own: close() releases it before it reports leaks, so a failOnLeak heap whose
 * program freed everything closes quietly. heap.leaks() (and the MBean's leaks) list it as a live block all the
 * same, attributed to the program's push() as if the program had leaked it.
 */
class StackBlocksAreNotLeaksTest {
    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void leaksAgreesWithCloseAboutTheHeapsOwnStackBlocks(HeapMode mode) throws InterruptedException {
        Heap heap = Heap.builder().mode(mode).trackSites(1).failOnLeak(true).jmx(false).build();
        heap.free(heap.malloc(10));
        heap.stack().push().close(); // a platform thread's stack keeps its block
        Thread.ofVirtual().start(() -> heap.stack().push().close()).join(); // a virtual one's goes to the pool
        long kept = heap.malloc(100); // the program's own block: the only leak to report
        LeakReport report = heap.leaks();
        heap.free(kept);
        heap.close(); // quiet: nothing the program allocated is live
        assertThat(report.liveBlocks()).as("leaks() with one block of the program's live: %s", report).isEqualTo(1);
        assertThat(report.liveBytes()).isEqualTo(100);
        assertThat(report.entries()).hasSize(1);
    }
}
