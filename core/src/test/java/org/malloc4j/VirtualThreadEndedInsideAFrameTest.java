package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import org.junit.jupiter.api.Test;

/**
 * A virtual thread that ends inside a frame keeps its stack's block (HeapStack: "for good"): a block of the heap's
 * own, which {@link Heap#leaks()} and a {@code failOnLeak} close must not report as the program's.
 */
class VirtualThreadEndedInsideAFrameTest {
    @Test
    void aVirtualThreadsBlockIsNoLeakOfTheProgramsAtClose() throws Exception {
        Heap heap = Heap.builder().jmx(false).failOnLeak(true).build();
        Thread t = Thread.ofVirtual().start(() -> heap.stack().push().allocate(64)); // never closed
        t.join();
        assertThat(heap.leaks().liveBlocks()).as("before close").isZero();
        assertThatCode(heap::close).doesNotThrowAnyException();
    }

    @Test
    void aVirtualThreadsBlockIsNoLeakOfTheProgramsOnceManyThreadsCameAndWent() throws Exception {
        try (Heap heap = Heap.builder().jmx(false).build()) {
            Thread t = Thread.ofVirtual().start(() -> heap.stack().push().allocate(64)); // never closed
            t.join();
            for (int i = 0; i < 200; i++) { // each makes a stack: the registry sweeps the ended threads' slots
                Thread.ofVirtual().start(() -> {
                    try (StackFrame f = heap.stack().push()) {
                        f.allocate(8);
                    }
                }).join();
            }
            assertThat(heap.leaks().liveBlocks()).isZero();
        }
    }
}
