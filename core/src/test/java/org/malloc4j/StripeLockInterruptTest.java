package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;

/**
 * A virtual thread that holds a stripe and waits on the page lock (a slab refill while another thread holds the page
 * layer) is unmounted. Virtual threads of the same stripe that were interrupted (a cancelled task freeing its memory in
 * a finally block) then wait for the stripe. Found by a review on 2026-12-07: their parkNanos returned at once, so
 * they spun on their carriers and never gave them up, and once the page lock was given back the holder never got a
 * carrier to finish on: a hang, in every run. StripeLock now waits as ReentrantLock.lock() does, the interrupt status
 * put back once it holds the lock (checked here too).
 */
class StripeLockInterruptTest {
    private static Object field(Object o, String name) throws Exception {
        Field f = o.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return f.get(o);
    }

    @Test
    void interruptedWaitersDoNotStarveTheUnmountedHolder() throws Exception {
        // Not closed on failure: a stripe may stay held
        Heap heap = Heap.builder().name("vt-interrupted").jmx(false).build(); // not closed: it may stay locked
        Object core = field(heap, "core");
        Object pages = field(core, "pages");
        ReentrantLock pageLock = (ReentrantLock) pages.getClass().getMethod("lock").invoke(pages);
        Object caches = field(core, "caches");
        int stripes = (int) caches.getClass().getMethod("stripeCount").invoke(caches);

        pageLock.lock(); // another thread in the page layer (a large malloc, a trim)
        Thread holder = Thread.ofVirtual().unstarted(() -> heap.free(heap.malloc(48)));
        int k = (int) holder.threadId() & (stripes - 1);
        holder.start();
        while (!pageLock.hasQueuedThread(holder)) Thread.yield(); // holds stripe k, parked on the page lock

        int carriers = Integer.getInteger("jdk.virtualThreadScheduler.parallelism",
                Runtime.getRuntime().availableProcessors());
        List<Thread> waiters = new ArrayList<>();
        while (waiters.size() < carriers + 2) {
            Thread w = Thread.ofVirtual().unstarted(() -> {
                Thread.currentThread().interrupt(); // a cancelled task: its cleanup frees
                heap.free(heap.malloc(48));
                if (!Thread.currentThread().isInterrupted()) throw new AssertionError("interrupt status lost");
            });
            if (((int) w.threadId() & (stripes - 1)) == k) waiters.add(w);
        }
        waiters.forEach(Thread::start);
        // Wait until as many waiters as there are carriers are past their spins and yields (seen in parkNanos)
        Set<Thread> parking = new HashSet<>();
        while (parking.size() < carriers) {
            for (Thread w : waiters) {
                for (StackTraceElement e : w.getStackTrace()) {
                    if (e.getMethodName().equals("parkNanos")) parking.add(w);
                }
            }
            Thread.yield();
        }
        pageLock.unlock(); // the holder may go on: it only needs a carrier

        boolean finished = holder.join(Duration.ofSeconds(30));
        assertThat(finished)
                .as("the stripe's holder finished (state %s); waiters %s", holder.getState(),
                        waiters.stream().map(Thread::getState).toList())
                .isTrue();
        for (Thread w : waiters) assertThat(w.join(Duration.ofSeconds(30))).isTrue();
        heap.close();
    }
}
