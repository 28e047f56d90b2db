package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A heap closed while a live virtual thread is inside a frame: the block its stack borrowed is the heap's own, as a
 * platform thread's is in the same place, and close() must not report it as the program's leak. It did: the
 * registry forgot the thread's stack at close, so the block was counted as a live block of the program's, and a
 * {@code failOnLeak} heap threw {@link HeapLeakException} for "1 live block(s), 65552 bytes" the program never
 * allocated.
 */
class VirtualThreadInsideAFrameAtCloseTest {
    /** Runs {@code close} while a virtual thread and a platform thread each hold a frame of {@code heap} open. */
    private static void closeWithFramesOpen(Heap heap, Runnable close) throws Exception {
        CountDownLatch inFrame = new CountDownLatch(2), closed = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Runnable holdAFrame = () -> {
            try (StackFrame frame = heap.stack().push()) {
                frame.allocate(64);
                inFrame.countDown();
                closed.await();
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        };
        Thread virtual = Thread.ofVirtual().start(holdAFrame);
        Thread platform = Thread.ofPlatform().start(holdAFrame);
        inFrame.await();
        try {
            close.run();
        } finally {
            closed.countDown();
            virtual.join();
            platform.join();
        }
        assertThat(failure.get()).isNull();
    }

    @Test
    void aFailOnLeakHeapClosesQuietlyWhenTheProgramFreedEverything() throws Exception {
        Heap heap = Heap.builder().jmx(false).failOnLeak(true).build();
        heap.free(heap.malloc(100));
        closeWithFramesOpen(heap, () -> assertThatCode(heap::close).doesNotThrowAnyException());
        assertThat(heap.toString()).contains("closed");
    }

    @Test
    void onlyTheProgramsOwnBlockIsReported() throws Exception {
        Heap heap = Heap.builder().jmx(false).failOnLeak(true).build();
        heap.malloc(100); // never freed: the one leak
        closeWithFramesOpen(heap, () -> assertThatThrownBy(heap::close).isInstanceOf(HeapLeakException.class)
                .satisfies(e -> {
                    LeakReport report = ((HeapLeakException) e).report();
                    assertThat(report.liveBlocks()).as("%s", report).isEqualTo(1);
                    assertThat(report.liveBytes()).isEqualTo(100);
                }));
    }
}
