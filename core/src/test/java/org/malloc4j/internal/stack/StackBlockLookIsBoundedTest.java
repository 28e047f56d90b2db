package org.malloc4j.internal.stack;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.malloc4j.Heap;
import org.malloc4j.StackFrame;

/**
 * Every operation is bounded time (the core heap issue): a stack that needs a block and finds the pool empty (a
 * platform thread's first push, a virtual thread's outermost push while the pool is dry) looked at every platform
 * thread's stack for one whose thread had ended, under the registry's monitor: 200 live platform threads pushing their
 * first frames in turn looked at 19,900 stacks, 100 each. Now each looks at a few, in turn.
 */
class StackBlockLookIsBoundedTest {
    @Test
    void aStackThatNeedsABlockLooksAtAFewPlatformStacks() throws Exception {
        try (Heap heap = Heap.builder().jmx(false).build()) {
            java.lang.reflect.Field f = Heap.class.getDeclaredField("stacks");
            f.setAccessible(true);
            StackRegistry stacks = (StackRegistry) f.get(heap);
            int threads = 200;
            CountDownLatch done = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> started = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                CountDownLatch pushed = new CountDownLatch(1);
                started.add(Thread.ofPlatform().start(() -> {
                    try (StackFrame frame = heap.stack().push()) { // its first push: a block for its life
                        frame.allocate(100);
                        pushed.countDown();
                        done.await(); // alive, holding its block, while the next threads push
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                        pushed.countDown();
                    }
                }));
                pushed.await();
            }
            long looked = stacks.stacksLooked();
            done.countDown();
            for (Thread t : started) t.join();
            assertThat(failure.get()).isNull();
            assertThat(looked).as("platform stacks looked at by %d first pushes", threads)
                    .isLessThanOrEqualTo(StackRegistry.LOOK_BUDGET * (long) threads);
        }
    }
}
