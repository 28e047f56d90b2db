package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The purger thread ran for the rest of the process once a heap had been built, whether or not any heap was still
 * open: a thread that runs this library's code keeps its class loader reachable, so a web application that closed
 * all its heaps when it was undeployed could never be unloaded. Now it ends when it finds no heap open, and the next
 * heap built starts it again, which purges as before. In a JVM of its own: the test JVM's other heaps (the global
 * heap, say) would keep the thread running.
 */
class PurgerEndsWithTheLastHeapTest {
    private static final int BYTES = 4 << 20;

    @Test
    void thePurgerThreadEndsWhenNoHeapIsOpenAndStartsAgainWithTheNext() throws Exception {
        String out = ChildJvm.runToSuccess(PurgerEndsWithTheLastHeapTest.class, 120, List.of());
        assertThat(out).contains("purger while a heap is open: true").contains("purger ended after close: true")
                .contains("purged by a new purger: true");
    }

    /** Child JVM: a heap built and closed, the purger awaited (bounded), then a heap whose pages must decay. */
    public static void main(String[] args) throws Exception {
        Thread first;
        try (Heap heap = Heap.builder().jmx(false).build()) {
            heap.free(heap.malloc(100));
            first = purger();
            System.out.println("purger while a heap is open: " + (first != null));
        }
        first.join(20_000); // a bounded wait for the thread's next pass (it parks for a second when nothing decays)
        System.out.println("purger ended after close: " + !first.isAlive());
        ManualClock clock = new ManualClock();
        try (Heap heap = Heap.builder().decay(Duration.ofSeconds(1)).clock(clock).jmx(false).build()) {
            long p = heap.malloc(BYTES);
            Blocks.ALL.asSlice(p, BYTES).fill((byte) 1);
            heap.free(p);
            clock.advance(Duration.ofSeconds(1)); // nothing but the purger thread can give the pages back now
            System.out.println("purged by a new purger: " + Internals.await(() -> heap.stats().retainedBytes() == 0));
        }
    }

    /** @return the live purger thread, or null */
    private static Thread purger() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("malloc4j-purger"))
                .findFirst().orElse(null);
    }
}
