package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * {@code stats()}, {@code snapshot()} and {@code trim()} racing {@code close()}: the heap's own JFR periodic event and
 * its MXBean call them from threads of their own and expect the IllegalStateException of a closed heap. Found by a
 * review on 2026-12-07: a stats() that passed its open check just before another thread's close() walked the free-run
 * index in the page map that close() had unmapped, and the JVM died (SIGSEGV in every run of three, within a few
 * rounds). Each call now checks, under the page lock, that the heap is still open. Run in a child JVM, since the
 * failure is a crash.
 */
class MonitoringRacingCloseTest {

    /** Child JVM: rounds of one monitoring call in a loop on another thread while the main thread closes the heap. */
    public static void main(String[] args) throws Exception {
        int rounds = Integer.parseInt(args[0]);
        for (int r = 0; r < rounds; r++) {
            Heap heap = Heap.builder().jmx(false).build();
            // A dirty free run in the page layer's index (a freed page-run block waits for its decay time)
            heap.free(heap.malloc(1 << 20));
            // Many slabs with remote frees on an idle owner's pending stack: stats() walks them before it takes the
            // page lock (LocalHeap.uncollectedSlack), the window a close() must fall into
            int n = 20_000;
            long[] blocks = new long[n];
            CountDownLatch allocated = new CountDownLatch(1), release = new CountDownLatch(1);
            Thread owner = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < n; i++) blocks[i] = heap.malloc(2000);
                allocated.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            allocated.await();
            for (int i = 0; i < n; i += 2) heap.free(blocks[i]); // remote frees, never collected by the idle owner
            int call = r % 3;
            AtomicBoolean started = new AtomicBoolean();
            Thread monitor = Thread.ofPlatform().start(() -> {
                while (true) {
                    try {
                        switch (call) {
                            case 0 -> heap.stats();
                            case 1 -> heap.snapshot();
                            default -> heap.trim();
                        }
                        started.set(true);
                    } catch (IllegalStateException closed) {
                        return; // what a call that meets close() ends with
                    }
                }
            });
            while (!started.get()) Thread.onSpinWait();
            heap.close();
            monitor.join();
            release.countDown();
            owner.join();
        }
        System.out.println("survived " + rounds + " rounds");
        System.exit(0);
    }

    @Test
    void statsSnapshotAndTrimRacingCloseThrowInsteadOfCrashing() throws Exception {
        String out = ChildJvm.runToSuccess(MonitoringRacingCloseTest.class, 120, List.of("-Xmx1g"), "30");
        assertThat(out).contains("survived 30 rounds");
    }
}
