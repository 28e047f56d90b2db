package org.malloc4j.internal.small;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** How a thread finds its cache: the first thread by a field, the others by thread id, a ThreadLocal on collision. */
class ThreadCachesTest {
    /** A source that is never asked for a slab: these tests only look caches up. */
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
    void everyPlatformThreadFindsItsOwnCacheWithoutTheThreadLocalUnlessItsSlotIsTaken() throws Exception {
        ThreadCaches caches = new ThreadCaches(NO_SLABS);
        LocalHeap first = caches.get();
        assertThat(first.thread).isSameAs(Thread.currentThread());
        assertThat(caches.ownCacheOf(Thread.currentThread())).isSameAs(first);

        // A second thread, kept alive: found through the table.
        CountDownLatch registered = new CountDownLatch(1), finish = new CountDownLatch(1);
        AtomicReference<LocalHeap> secondCache = new AtomicReference<>(), secondOwn = new AtomicReference<>();
        Thread second = Thread.ofPlatform().start(() -> {
            secondCache.set(caches.get());
            secondOwn.set(caches.ownCacheOf(Thread.currentThread()));
            registered.countDown();
            Latches.await(finish);
        });
        registered.await();
        assertThat(secondCache.get().thread).isSameAs(second);
        assertThat(secondOwn.get()).isSameAs(secondCache.get());
        assertThat(caches.ownCacheOf(second)).as("seen from another thread, the slot names the second thread's cache")
                .isSameAs(secondCache.get());

        // A third thread whose id lands in the second's slot while the second lives: the ThreadLocal, a cache of its own.
        AtomicReference<LocalHeap[]> third = new AtomicReference<>();
        Thread collider = unstartedInSlotOf(second, () -> third.set(new LocalHeap[] {caches.get(), caches.get(),
                caches.ownCacheOf(Thread.currentThread())}));
        collider.start();
        collider.join();
        assertThat(third.get()[0].thread).isSameAs(collider);
        assertThat(third.get()[1]).as("the same cache on every lookup").isSameAs(third.get()[0]);
        assertThat(third.get()[2]).as("not in the table: its slot is the second thread's").isNull();
        assertThat(caches.ownCacheOf(second)).isSameAs(secondCache.get());

        // Once the second thread has died and its cache was adopted, a new thread in that slot takes it.
        finish.countDown();
        second.join();
        caches.reapAll(first);
        assertThat(caches.ownCacheOf(second)).isNull();
        AtomicReference<LocalHeap[]> fourth = new AtomicReference<>();
        Thread next = unstartedInSlotOf(second, () -> fourth.set(new LocalHeap[] {caches.get(),
                caches.ownCacheOf(Thread.currentThread())}));
        next.start();
        next.join();
        assertThat(fourth.get()[1]).isNotNull().isSameAs(fourth.get()[0]);
        assertThat(fourth.get()[0].thread).isSameAs(next);
    }

    @Test
    void aVirtualThreadGetsAStripeEvenWhenItsIdLandsInAPlatformThreadsSlot() throws Exception {
        ThreadCaches caches = new ThreadCaches(NO_SLABS);
        caches.get(); // the first thread
        CountDownLatch registered = new CountDownLatch(1), finish = new CountDownLatch(1);
        Thread platform = Thread.ofPlatform().start(() -> {
            caches.get();
            registered.countDown();
            Latches.await(finish);
        });
        registered.await();
        AtomicReference<LocalHeap[]> seen = new AtomicReference<>();
        Thread v = null;
        for (int i = 0; i < 4 * ThreadCaches.BY_ID && v == null; i++) {
            Thread t = Thread.ofVirtual().unstarted(() -> seen.set(new LocalHeap[] {caches.get(),
                    caches.ownCacheOf(Thread.currentThread())}));
            if ((t.threadId() - platform.threadId()) % ThreadCaches.BY_ID == 0) v = t;
        }
        assertThat(v).as("a virtual thread whose id shares the platform thread's slot").isNotNull();
        v.start();
        v.join();
        assertThat(seen.get()[0].thread).as("a shared stripe").isNull();
        assertThat(seen.get()[1]).isNull();
        finish.countDown();
        platform.join();
    }

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
                    Latches.await(die);
                });
            }
            registered.await();
            die.countDown();
            for (Thread t : threads) t.join();
            dead += round;
            caches.reapAll(first);
            assertThat(caches.all()).as("after %d dead threads: only the stripes and the live thread's cache", round)
                    .hasSize(before).contains(first);
            assertThat(caches.adopted()).isEqualTo(dead);
        }
    }

    /** @return an unstarted platform thread running {@code task} whose id shares {@code other}'s table slot */
    private static Thread unstartedInSlotOf(Thread other, Runnable task) {
        for (int i = 0; i < 4 * ThreadCaches.BY_ID; i++) {
            Thread t = Thread.ofPlatform().unstarted(task);
            if ((t.threadId() - other.threadId()) % ThreadCaches.BY_ID == 0) return t;
        }
        throw new AssertionError("no thread id in the slot of " + other.threadId() + " among "
                + 4 * ThreadCaches.BY_ID + " new threads");
    }
}
