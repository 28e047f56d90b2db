package org.malloc4j.internal.checked;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.malloc4j.HeapDamage;
import org.malloc4j.internal.small.LocalHeap;

/**
 * The quarantine's bound while platform threads join, free, sit idle and die, and virtual threads free through the
 * stripes, blocks of many sizes: what the rings hold, counted from the blocks added and evicted, is never above the
 * capacity by more than the blocks being added at that instant (a block is counted from before its add, which may
 * push it only after evicting others), and once every thread is done and the dead rings are reaped, a drain evicts
 * every block that was added, each once.
 */
class QuarantineChurnBoundTest {
    private static final long CAPACITY = 64 << 10;
    private static final long MOST_CHARGED = Quarantine.charge(600, RedZones.HEADER);

    /** Counts the charge held, from the adds and the evictions, and the most it reached beyond the adds in flight. */
    private static final class Counter implements Quarantine.Evictor {
        final Map<Long, Long> charges = new ConcurrentHashMap<>();
        final AtomicLong held = new AtomicLong(), inFlight = new AtomicLong(), worstExcess = new AtomicLong(),
                evicted = new AtomicLong(), twice = new AtomicLong();

        void add(Quarantine q, long p, long size) {
            long share = q.share();
            long c = Quarantine.charge(size, RedZones.HEADER);
            charges.put(p, c);
            long flying = inFlight.incrementAndGet();
            long h = held.addAndGet(c);
            worstExcess.accumulateAndGet(h - CAPACITY - flying * MOST_CHARGED, Math::max);
            try {
                if (Quarantine.fits(size, RedZones.HEADER, share)) {
                    q.add(p, size, RedZones.HEADER, share, null);
                } else {
                    evict(p, null); // as CheckedHeap: released at once
                }
            } finally {
                inFlight.decrementAndGet();
            }
        }

        @Override
        public HeapDamage evict(long p, LocalHeap own) {
            Long c = charges.remove(p);
            if (c == null) {
                twice.incrementAndGet();
                return null;
            }
            held.addAndGet(-c);
            evicted.incrementAndGet();
            return null;
        }
    }

    @Test
    void threadsJoiningIdlingAndDyingNeverPassTheBoundAndEveryBlockLeavesOnce() throws Exception {
        Counter counter = new Counter();
        Quarantine q = new Quarantine(CAPACITY, counter);
        AtomicLong next = new AtomicLong(16), added = new AtomicLong();
        CountDownLatch end = new CountDownLatch(1);
        List<Thread> started = new ArrayList<>();
        Runnable freeSome = () -> {
            int n = ThreadLocalRandom.current().nextInt(1, 300);
            for (int i = 0; i < n; i++) {
                counter.add(q, next.getAndAdd(1024), ThreadLocalRandom.current().nextInt(0, 600));
                added.incrementAndGet();
            }
        };
        for (int t = 0; t < 3; t++) { // steady freers
            started.add(Thread.ofPlatform().start(() -> {
                while (end.getCount() > 0) freeSome.run();
            }));
        }
        List<Thread> idle = new ArrayList<>();
        try (var virtuals = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int round = 0; round < 150; round++) {
                Thread j = Thread.ofPlatform().start(freeSome); // joins, frees, dies
                if (round % 10 == 0) { // joins, frees, then sits idle holding its ring until the end
                    idle.add(Thread.ofPlatform().start(() -> {
                        freeSome.run();
                        await(end);
                    }));
                }
                for (int v = 0; v < 20; v++) virtuals.submit(freeSome);
                if (round % 3 == 0) j.join();
            }
        }
        end.countDown();
        for (Thread t : started) t.join();
        for (Thread t : idle) t.join();
        assertThat(counter.worstExcess.get()).as("charge held beyond the capacity and the adds in flight")
                .isLessThanOrEqualTo(0);
        assertThat(counter.held.get()).isLessThanOrEqualTo(CAPACITY);
        q.reapAll();
        assertThat(q.threadRings()).as("rings of live threads after every thread ended").isZero();
        assertThat(q.drain()).isEmpty();
        assertThat(q.held()).containsExactly(0, 0);
        assertThat(counter.twice.get()).as("blocks evicted twice").isZero();
        assertThat(counter.evicted.get()).as("blocks evicted").isEqualTo(added.get());
        assertThat(counter.held.get()).isZero();
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
