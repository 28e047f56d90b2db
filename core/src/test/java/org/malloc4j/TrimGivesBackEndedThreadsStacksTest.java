package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.malloc4j.internal.stack.StackRegistry;

/**
 * Thread death (the concurrency issue): the memory kept for a thread goes back when it ends. A platform thread's
 * stack keeps its 64 KiB block for the thread's life, and an ended thread's block was taken back only when another
 * stack needed one: after a hundred platform threads had used their stacks together and ended, trim() left their 100
 * blocks live and committed (6.5 MB, nothing of the program's live), for as long as no thread pushed a frame again.
 */
class TrimGivesBackEndedThreadsStacksTest {
    @Test
    void trimTakesBackTheStackBlocksOfEndedThreads() throws Exception {
        try (Heap heap = Heap.builder().jmx(false).failOnLeak(true).build()) {
            int threads = 100;
            CyclicBarrier allInside = new CyclicBarrier(threads + 2); // every stack holds its block at once
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> started = new ArrayList<>();
            for (int i = 0; i < threads + 2; i++) {
                boolean endsInside = i >= threads; // two virtual threads end with their frame open
                Runnable work = () -> {
                    try {
                        StackFrame frame = heap.stack().push();
                        frame.allocate(1000);
                        allInside.await();
                        if (!endsInside) frame.close();
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                };
                started.add(endsInside ? Thread.ofVirtual().start(work) : Thread.ofPlatform().start(work));
            }
            for (Thread t : started) t.join();
            assertThat(failure.get()).isNull();
            var stacks = (StackRegistry) Internals.field(heap, Heap.class, "stacks");
            assertThat(stacks.liveStacks()).as("blocks before trim").isEqualTo(threads + 2);

            heap.trim();

            HeapStats s = heap.stats();
            // What stays is what the pool keeps for the next stacks, as after virtual threads' pops
            assertThat(stacks.liveStacks()).as("blocks after trim (%s)", s).isLessThanOrEqualTo(stacks.poolCapacity());
            assertThat(s.liveBlocks()).isEqualTo(stacks.liveStacks());
            assertThat(s.liveBytes()).isEqualTo(stacks.liveStacks() * stacks.blockSize());
            assertThat(s.committedBytes()).as("%s", s).isLessThan((stacks.poolCapacity() + 8) * 80L << 10);
            assertThat(heap.leaks().liveBlocks()).isZero();
            try (StackFrame frame = heap.stack().push()) { // the stacks still work: this one takes a pooled block
                frame.allocate(100);
            }
        }
    }
}
