package org.malloc4j.internal.small;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The registry of thread caches: adoption of dead threads' caches. */
class ThreadCachesTest {
    /** A source that is never asked for a slab: these tests only register and adopt caches. */
    private static final SlabSource NO_SLABS = new SlabSource() {
        @Override
        public Slab newSlab(int sizeClass, LocalHeap owner, long request) {
            throw new UnsupportedOperationException("no slabs here");
        }

        @Override
        public void releaseSlab(Slab slab) {}

        @Override
        public void onSlowPath(LocalHeap cache) {}
    };

    @Test
    void reapAllAdoptsEveryDeadThreadsCacheWhereverTheCursorStands() throws Exception {
        ThreadCaches caches = new ThreadCaches(NO_SLABS);
        LocalHeap first = caches.get();
        int before = caches.all().length;
        long dead = 0;
        for (int round = 1; round <= 12; round++) { // the cursor stands somewhere else at each round
            // All register before any dies, so that registering (which adopts a few dead caches) leaves them all.
            CountDownLatch registered = new CountDownLatch(round), die = new CountDownLatch(1);
            Thread[] threads = new Thread[round];
            for (int i = 0; i < round; i++) {
                threads[i] = Thread.ofPlatform().start(() -> {
                    caches.get();
                    registered.countDown();
                    await(die);
                });
            }
            registered.await();
            die.countDown();
            for (Thread t : threads) t.join();
            dead += round;
            caches.reapAll(first);
            assertThat(caches.all()).as("after %d dead threads: only the stripes and the live thread's cache", round)
                    .hasSize(before).contains(first);
            assertThat(caches.retired()[4]).isEqualTo(dead);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
