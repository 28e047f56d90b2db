package org.malloc4j.internal.checked;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.malloc4j.HeapDamage;

/**
 * The quarantine's rings: one per platform thread, striped for virtual threads, the capacity shared among them, and
 * the rings of dead threads emptied by live ones. An evictor that records what leaves stands in for the engine.
 */
class QuarantineTest {
    /** What one 16-byte block is charged: its bytes and its red zones. */
    private static final long BLOCK = Quarantine.charge(16, RedZones.HEADER);

    /** Records every address evicted, in order; reports damage for the addresses in {@code damaged}. */
    private static final class Recorder implements Quarantine.Evictor {
        final java.util.Queue<Long> evicted = new java.util.concurrent.ConcurrentLinkedQueue<>();
        final Set<Long> damaged = new HashSet<>();

        @Override
        public HeapDamage evict(long p, org.malloc4j.internal.small.LocalHeap own) {
            evicted.add(p);
            return damaged.contains(p) ? new HeapDamage(p, 16, HeapDamage.Kind.WRITE_AFTER_FREE, 0, List.of()) : null;
        }
    }

    @Test
    void aRingEvictsItsOldestBlocksFirstOnceItHoldsMoreThanItsShare() {
        Recorder r = new Recorder();
        Quarantine q = new Quarantine(10 * BLOCK, r);
        for (long i = 1; i <= 10; i++) assertThat(add(q, i * 16, 16)).isNull();
        assertThat(r.evicted).isEmpty();
        assertThat(q.held()).containsExactly(10, 160);
        for (long i = 11; i <= 13; i++) add(q, i * 16, 16);
        assertThat(r.evicted).containsExactly(16L, 32L, 48L);
        assertThat(q.held()).containsExactly(10, 160);
    }

    @Test
    void aFullRingOfManyBlocksEvictsABatchAtOnceAndThenNoneUntilItIsFullAgain() {
        Recorder r = new Recorder();
        Quarantine q = new Quarantine(200 * BLOCK, r);
        for (long i = 1; i <= 200; i++) add(q, i * 16, 16);
        assertThat(r.evicted).isEmpty();
        add(q, 201 * 16, 16); // 201 blocks against a share of 200: the 16 oldest leave, not one
        assertThat(r.evicted).hasSize(16).startsWith(16L, 32L).endsWith(16L * 16);
        for (long i = 202; i <= 216; i++) add(q, i * 16, 16); // back up to 200 blocks: nothing leaves
        assertThat(r.evicted).hasSize(16);
        assertThat(q.held()).containsExactly(200, 200 * 16);
        add(q, 217 * 16, 16);
        assertThat(r.evicted).hasSize(32).endsWith(32L * 16);
        assertThat(q.held()).containsExactly(185, 185 * 16);
    }

    @Test
    void aBlockFitsOnlyWithItsRedZonesAndAnEmptyQuarantineTakesNothing() {
        Quarantine q = new Quarantine(1024, new Recorder());
        assertThat(Quarantine.fits(1024 - 2 * RedZones.TAIL, RedZones.HEADER, q.share())).isTrue();
        assertThat(Quarantine.fits(1024, RedZones.HEADER, q.share())).isFalse(); // charged 1024 + its red zones
        assertThat(Quarantine.fits(0, 1024, q.share())).isFalse(); // an aligned block is charged its front
        Quarantine off = new Quarantine(0, new Recorder());
        // an empty block is charged its red zones too
        assertThat(Quarantine.fits(0, RedZones.HEADER, off.share())).isFalse();
    }

    @Test
    void threadsShareTheCapacityAndADeadThreadsShareReturnsWhenItsRingIsReaped() throws Exception {
        Recorder r = new Recorder();
        Quarantine q = new Quarantine(8 * BLOCK, r);
        for (long i = 1; i <= 8; i++) add(q, i * 16, 16);
        assertThat(r.evicted).isEmpty();
        CountDownLatch added = new CountDownLatch(1), finish = new CountDownLatch(1);
        Thread other = Thread.ofPlatform().start(() -> {
            add(q, 1 << 20, 16);
            added.countDown();
            await(finish);
        });
        added.await();
        assertThat(q.threadRings()).isEqualTo(2);
        assertThat(q.share()).isEqualTo(4 * BLOCK);
        add(q, 9 * 16, 16); // this ring now holds 9 blocks against a share of 4: the 5 oldest leave
        assertThat(r.evicted).containsExactly(16L, 32L, 48L, 64L, 80L);
        finish.countDown();
        other.join();
        q.reapAll();
        assertThat(r.evicted).hasSize(6).contains(1L << 20);
        assertThat(q.threadRings()).isEqualTo(1);
        assertThat(q.share()).isEqualTo(8 * BLOCK);
        assertThat(q.held()).containsExactly(4, 64);
    }

    /**
     * Each thread that joins fills its ring to its share while the threads before it sit idle. Until 2026-12-07 the
     * rings of eight threads held the capacity times 1 + 1/2 + ... + 1/8 (2,283 blocks in a quarantine of 840), each
     * shrinking to its new share only at its own next free; leases then let a joining ring overdraw the capacity while
     * the idle rings kept their old shares: 1,680 blocks, twice the capacity. A joining ring now takes the lease it
     * needs back from the idle rings over their share, evicting their oldest blocks: never more than the capacity.
     */
    @Test
    void threadsThatJoinOneAfterAnotherNeverHoldMoreThanTheCapacity() throws Exception {
        int threads = 8;
        long capacity = 840; // blocks: a multiple of 1 to 8, so that every share is a whole number of blocks
        Recorder r = new Recorder();
        Quarantine q = new Quarantine(capacity * BLOCK, r);
        AtomicLong next = new AtomicLong(16);
        CountDownLatch again = new CountDownLatch(1), done = new CountDownLatch(threads);
        List<Thread> started = new ArrayList<>();
        long most = 0;
        try {
            for (int t = 0; t < threads; t++) {
                CountDownLatch filled = new CountDownLatch(1);
                started.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < capacity; i++) add(q, next.getAndAdd(16), 16);
                    filled.countDown();
                    await(again);
                    add(q, next.getAndAdd(16), 16); // one more free each
                    done.countDown();
                }));
                filled.await(); // the thread's ring is full, and the thread idle: the next one joins
                most = Math.max(most, q.held()[0]);
                assertThat(q.held()[0]).as("blocks held once thread %d filled its ring", t)
                        .isGreaterThanOrEqualTo(capacity / (t + 1)); // it held its share: the others gave it back
            }
            assertThat(q.threadRings()).isEqualTo(threads);
            assertThat(most).as("blocks held at once, in a quarantine of %d", capacity).isLessThanOrEqualTo(capacity);
            again.countDown();
            done.await();
            assertThat(q.held()[0]).as("blocks held once every thread freed again").isLessThanOrEqualTo(capacity);
            assertThat(q.held()[0] + r.evicted.size()).isEqualTo(threads * (capacity + 1));
            assertThat(r.evicted).doesNotHaveDuplicates();
        } finally {
            again.countDown();
            for (Thread t : started) t.join();
        }
    }

    /**
     * One thread holds the whole capacity and sits idle; threads join one after another, each freeing one block and
     * then sitting idle too. Each joiner's lease is taken back from the idle ring over its share, however many rings
     * (and virtual threads' stripes) lie between the reclaim's cursor and it: a reclaim that looked at the next eight
     * rings only, over-share or not, found none of them over their share once enough threads had joined, left the
     * joiner no lease, and its block skipped the quarantine (released at its free, unchecked for writes after free).
     */
    @Test
    void aJoiningThreadsBlockWaitsInQuarantineHoweverManyRingsLieBeforeTheOneOverItsShare() throws Exception {
        int joiners = 24;
        long capacity = 2 * (joiners + 1) * 4; // blocks: a share of at least 8 once every joiner is in
        Recorder r = new Recorder();
        Quarantine q = new Quarantine(capacity * BLOCK, r);
        CountDownLatch finish = new CountDownLatch(1);
        List<Thread> started = new ArrayList<>();
        List<Long> skipped = new ArrayList<>();
        try {
            CountDownLatch filled = new CountDownLatch(1);
            started.add(Thread.ofPlatform().start(() -> {
                for (long i = 1; i <= capacity; i++) add(q, i * 16, 16);
                filled.countDown();
                await(finish);
            }));
            filled.await();
            for (int t = 0; t < joiners; t++) {
                long p = (1L << 32) + t * 16L;
                idleAfterFreeing(q, p, 16, finish, started);
                if (r.evicted.contains(p)) skipped.add(p);
            }
            assertThat(skipped).as("joiners' blocks released at their free, of %d", joiners).isEmpty();
            assertThat(q.held()[0]).isLessThanOrEqualTo(capacity);
        } finally {
            finish.countDown();
            for (Thread t : started) t.join();
        }
    }

    /**
     * Threads join one after another, each freeing one block of most of the share there will be once all have joined,
     * and then sitting idle: each joiner's share comes back from all the rings before it, each a little over the share
     * that shrank. A reclaim that tried eight of them gathered 8 / n of a share for the n-th joiner, and the blocks of
     * the last joiners did not fit: released at their free, unchecked for writes after free. (Not all of the share:
     * an idle ring keeps the room its thread reserved, up to a sixteenth of the share it had, here half the capacity.)
     */
    @Test
    void aJoiningThreadGathersItsShareFromEveryRingOverTheirs() throws Exception {
        int joiners = 40;
        long capacity = 64 * 1024 * (joiners + 1); // bytes: a share of 64 KiB once all are in
        long size = 36_000; // within that share less the first joiner's reservation (a 32nd of the capacity)
        Recorder r = new Recorder();
        Quarantine q = new Quarantine(capacity, r);
        CountDownLatch finish = new CountDownLatch(1);
        List<Thread> started = new ArrayList<>();
        List<Integer> skipped = new ArrayList<>();
        try {
            CountDownLatch first = new CountDownLatch(1);
            started.add(Thread.ofPlatform().start(() -> {
                add(q, 16, 16);
                first.countDown();
                await(finish);
            }));
            first.await();
            for (int t = 0; t < joiners; t++) {
                long p = (1L << 32) + t * 16L;
                idleAfterFreeing(q, p, size, finish, started);
                if (r.evicted.contains(p)) skipped.add(t);
            }
            assertThat(skipped).as("joiners whose block was released at its free, of %d", joiners).isEmpty();
            assertThat(q.heldCharged()[2]).isLessThanOrEqualTo(capacity);
        } finally {
            finish.countDown();
            for (Thread t : started) t.join();
        }
    }

    /**
     * A ring kept short of its share: a thread that reserved a sixteenth of the whole capacity while alone, and 100
     * others that joined since, sit idle, and their leases leave the last joiner less than its share. Each of its slow
     * adds asks for more, and a reclaim read every ring's lease (the stripes' too) each time, though none could give:
     * 20,000 frees read 130,000 leases (106 rings on two cores). Now the rings that can give nothing are set aside until they free again.
     */
    @Test
    void aShortRingReadsNoLeaseOfRingsThatCannotGiveAny() throws Exception {
        int idle = 100;
        long capacity = 1 << 22;
        Recorder r = new Recorder();
        Quarantine q = new Quarantine(capacity, r);
        CountDownLatch finish = new CountDownLatch(1);
        List<Thread> started = new ArrayList<>();
        try {
            for (int t = 0; t <= idle; t++) {
                long p = (1L << 32) + t * (1L << 20), size = t == 0 ? capacity / 64 - 64 : 16_000;
                idleAfterFreeing(q, p, size, finish, started);
            }
            int frees = 20_000;
            long[] read = new long[1];
            Thread worker = Thread.ofPlatform().start(() -> {
                add(q, 16, 16); // joins: the share settles
                long before = q.leasesRead();
                for (int i = 1; i <= frees; i++) add(q, 16 + i * 16L, 16);
                read[0] = q.leasesRead() - before;
            });
            worker.join();
            assertThat(read[0]).as("leases read by reclaims over %d frees", frees).isLessThan(frees / 8);
            assertThat(q.heldCharged()[2]).isLessThanOrEqualTo(capacity);
        } finally {
            finish.countDown();
            for (Thread t : started) t.join();
        }
    }

    /**
     * Threads free at once while others join and end: a reclaim evicts a ring's oldest blocks while its thread pushes
     * past them without a lock. Every block leaves once (none lost to a reclaim, none evicted twice), and once the
     * threads are done the quarantine holds no more than its capacity.
     */
    @Test
    void ringsThatFreeWhileOthersTakeTheirLeaseLoseNoBlockAndEvictNoneTwice() throws Exception {
        long capacity = 256;
        Recorder r = new Recorder();
        Quarantine q = new Quarantine(capacity * BLOCK, r);
        AtomicLong next = new AtomicLong(16);
        int threads = 6, frees = 20_000;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> started = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            started.add(Thread.ofPlatform().start(() -> {
                await(go);
                for (int i = 0; i < frees; i++) add(q, next.getAndAdd(16), 16);
            }));
        }
        go.countDown();
        int joiners = 200; // short-lived threads that join, take a lease from the busy rings, and end
        for (int t = 0; t < joiners; t++) {
            Thread j = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 40; i++) add(q, next.getAndAdd(16), 16);
            });
            j.join();
        }
        for (Thread t : started) t.join();
        assertThat(q.held()[0]).isLessThanOrEqualTo(capacity);
        long total = (long) threads * frees + joiners * 40L;
        assertThat(q.held()[0] + r.evicted.size()).isEqualTo(total);
        assertThat(r.evicted).doesNotHaveDuplicates();
        q.reapAll();
        q.drain();
        assertThat(r.evicted).hasSize((int) total).doesNotHaveDuplicates();
    }

    @Test
    void aDeadThreadsBlocksLeaveWhenANewThreadJoinsAndTheDamageFoundIsReportedToIt() throws Exception {
        Recorder r = new Recorder();
        r.damaged.add(48L);
        Quarantine q = new Quarantine(1 << 20, r);
        Thread dying = Thread.ofPlatform().start(() -> {
            for (long i = 1; i <= 3; i++) add(q, i * 16, 16);
        });
        dying.join();
        assertThat(r.evicted).isEmpty();
        assertThat(q.held()).containsExactly(3, 48);
        List<HeapDamage> seen = new ArrayList<>();
        Thread next = Thread.ofPlatform().start(() -> seen.add(add(q, 4096, 16)));
        next.join();
        assertThat(r.evicted).containsExactly(16L, 32L, 48L);
        assertThat(seen).singleElement().satisfies(d -> assertThat(d.address()).isEqualTo(48L));
        assertThat(q.held()).containsExactly(1, 16);
        assertThat(q.threadRings()).isEqualTo(1);
    }

    /**
     * A dead thread's ring was emptied only when a new platform thread joined, a malloc was refused, or stats(),
     * trim() or close() ran: a heap whose threads, once started, free on and on kept a dead thread's blocks (and its
     * share of the capacity) for good. The live rings' evictions now reap a few dead threads' rings every few times;
     * damage found there is thrown by the free that reaped, as on a join.
     */
    @Test
    void aDeadThreadsRingIsEmptiedByTheFreesOfAThreadThatWasThereBefore() throws Exception {
        Recorder r = new Recorder();
        r.damaged.add(1L << 20);
        Quarantine q = new Quarantine(16 * BLOCK, r);
        add(q, 16, 16); // this thread's ring, first
        Thread dying = Thread.ofPlatform().start(() -> {
            for (long i = 0; i < 3; i++) add(q, (1L << 20) + i * 16, 16);
        });
        dying.join();
        assertThat(q.threadRings()).isEqualTo(2);
        List<HeapDamage> thrown = new ArrayList<>();
        long next = 32;
        for (int frees = 0; frees < 1000 && q.threadRings() > 1; frees++, next += 16) {
            HeapDamage d = add(q, next, 16);
            if (d != null) thrown.add(d);
        }
        assertThat(q.threadRings()).as("rings once this thread freed 1000 blocks").isEqualTo(1);
        assertThat(r.evicted).contains(1L << 20, (1L << 20) + 16, (1L << 20) + 32);
        assertThat(thrown).singleElement().satisfies(d -> assertThat(d.address()).isEqualTo(1L << 20));
        assertThat(q.share()).isEqualTo(16 * BLOCK);
    }

    @Test
    void damageFoundWhileReapingOutsideAFreeIsKeptForTheNextReport() throws Exception {
        Recorder r = new Recorder();
        r.damaged.add(32L);
        Quarantine q = new Quarantine(1 << 20, r);
        Thread dying = Thread.ofPlatform().start(() -> {
            add(q, 16, 16);
            add(q, 32, 16);
        });
        dying.join();
        q.reapAll();
        assertThat(r.evicted).containsExactly(16L, 32L);
        assertThat(q.takeUnreported()).singleElement().satisfies(d -> assertThat(d.address()).isEqualTo(32L));
        assertThat(q.takeUnreported()).isEmpty();
    }

    @Test
    void tenThousandShortLivedThreadsLeaveNoRingsAndNoBlocksBehind() throws Exception {
        Recorder r = new Recorder();
        Quarantine q = new Quarantine(1 << 20, r);
        AtomicLong next = new AtomicLong(16);
        for (int t = 0; t < 10_000; t++) {
            Thread th = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 3; i++) add(q, next.getAndAdd(16), 16);
            });
            th.join();
        }
        q.reapAll();
        assertThat(q.threadRings()).isZero();
        assertThat(q.held()).containsExactly(0, 0);
        assertThat(r.evicted).hasSize(30_000).doesNotHaveDuplicates();
    }

    @Test
    void aHundredThousandVirtualThreadsShareTheStripesAndEveryBlockIsAccountedFor() throws Exception {
        Recorder r = new Recorder();
        Quarantine q = new Quarantine(256 * BLOCK, r);
        AtomicLong next = new AtomicLong(16);
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < 100_000; t++) pool.submit(() -> add(q, next.getAndAdd(16), 16));
        }
        assertThat(q.threadRings()).isZero();
        long[] held = q.held();
        assertThat(held[1]).isEqualTo(held[0] * 16).isLessThanOrEqualTo(256 * 16);
        assertThat(held[0] + r.evicted.size()).isEqualTo(100_000);
        assertThat(r.evicted).doesNotHaveDuplicates();
        List<HeapDamage> none = q.drain();
        assertThat(none).isEmpty();
        assertThat(r.evicted).hasSize(100_000).doesNotHaveDuplicates();
    }

    /** A free of a block that fits, as {@code CheckedHeap} makes it: against the share read just before. */
    private static HeapDamage add(Quarantine q, long p, long size) {
        long share = q.share();
        assertThat(Quarantine.fits(size, RedZones.HEADER, share)).isTrue();
        return q.add(p, size, RedZones.HEADER, share, null);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Starts a platform thread (kept in {@code started}) that frees the block at {@code p} of {@code size} bytes into
     * {@code q}, then sits idle, its ring holding the block, until {@code finish}; returns once the block is in.
     */
    private static void idleAfterFreeing(Quarantine q, long p, long size, CountDownLatch finish, List<Thread> started)
            throws InterruptedException {
        CountDownLatch added = new CountDownLatch(1);
        started.add(Thread.ofPlatform().start(() -> {
            add(q, p, size);
            added.countDown();
            await(finish);
        }));
        added.await();
    }
}
