package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.malloc4j.internal.stack.StackRegistry;

/**
 * The reclaim a refused request runs first ({@code HeapCore.reclaimBeforeRefusal}: the stacks' idle and ended blocks,
 * the caller's spares, then {@code ThreadCaches.drainStripes}, every stripe under its lock), and a virtual thread's
 * refused slab ({@code releaseIdleStripes}, the other stripes only tried), racing virtual threads that malloc, free
 * each other's blocks (remote frees waiting on the stripes) and push stack frames on the same stripes. All start at a
 * barrier; nothing is timed. Each block carries its own tag at both ends, checked before its free: a block handed to
 * two holders, or given back while held, overwrites one. At the end every block is freed, and the counts are exact:
 * the mallocs and frees the heap counted are the ones that succeeded (and the stacks' blocks), nothing is live but
 * the stack blocks the pool keeps, and verify() finds nothing.
 */
class RefusalReclaimVersusStripesStressTest {
    private static final int VIRTUAL = 8, ROUNDS = 300, KEEP = 24;
    private static final long[] SIZES = {48, 700, 3_000, 20_000, 90_000};

    /** The reclaim before a refusal against the stripes, under a 4 MiB limit. */
    @Test
    void noBlockIsLostOrCountedTwice() throws Exception {
        run(4L << 20, false);
    }

    /**
     * A small or medium request's refusal takes back the stacks' blocks from inside its cache's slow path
     * ({@code StackRegistry.releaseIdleNow}, the registry's lock only tried: a refused virtual thread holds its stripe's
     * lock) and may be lent a stripe's free block ({@code ThreadCaches.lendFromIdleStripe}), racing, besides, platform
     * threads that push a frame and end (their stack blocks then taken back) and trims, which take the registry's lock
     * and free under it: under a 2 MiB limit.
     */
    @Test
    void slabRefusalsTakingStacksBackRaceTrimsAndEndingThreads() throws Exception {
        run(2L << 20, true);
    }

    private static void run(long limit, boolean endersAndTrims) throws Exception {
        try (Heap h = Heap.builder().limit(limit).decay(Duration.ZERO).jmx(false).build()) {
            HeapStats before = h.stats();
            AtomicLong mallocs = new AtomicLong(), frees = new AtomicLong(), refused = new AtomicLong();
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            List<ConcurrentLinkedQueue<long[]>> handed = new ArrayList<>();
            for (int i = 0; i < VIRTUAL; i++) handed.add(new ConcurrentLinkedQueue<>());
            CyclicBarrier start = new CyclicBarrier(VIRTUAL + (endersAndTrims ? 2 : 1));
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < VIRTUAL; i++) {
                int me = i;
                threads.add(Thread.ofVirtual().unstarted(() -> {
                    try {
                        start.await();
                        List<long[]> mine = new ArrayList<>();
                        for (int r = 0; r < ROUNDS; r++) {
                            long size = SIZES[(r + me) % SIZES.length];
                            try {
                                long p = h.malloc(size);
                                mallocs.incrementAndGet();
                                long tag = ((long) me << 32) | r;
                                tag(p, size, tag);
                                mine.add(new long[] {p, size, tag});
                            } catch (HeapExhaustedException e) { // an Error: kept from the thread's end
                                refused.incrementAndGet();
                            }
                            try (StackFrame f = h.stack().push()) { // a block for the stack, taken and given back
                                f.allocate(64).set(ValueLayout.JAVA_LONG, 0, r);
                            } catch (HeapExhaustedException e) {
                                refused.incrementAndGet();
                            }
                            // The next thread frees this one's oldest blocks: remote frees, waiting on the stripes
                            if (mine.size() > KEEP) handed.get((me + 1) % VIRTUAL).add(mine.remove(0));
                            for (long[] b; (b = handed.get(me).poll()) != null; ) free(h, b, failures, frees);
                        }
                        for (long[] b : mine) free(h, b, failures, frees);
                    } catch (Throwable e) {
                        failures.add(e.toString());
                    }
                }));
            }
            Thread refuser = Thread.ofPlatform().unstarted(() -> {
                try {
                    start.await();
                    for (int r = 0; r < ROUNDS; r++) {
                        try {
                            h.free(h.malloc(limit - (64 << 10))); // refused whenever anything is committed
                            mallocs.incrementAndGet();
                            frees.incrementAndGet();
                        } catch (HeapExhaustedException e) {
                            refused.incrementAndGet();
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e.toString());
                }
            });
            Thread trimmer = Thread.ofPlatform().unstarted(() -> {
                try {
                    start.await();
                    for (int r = 0; r < ROUNDS; r++) {
                        Thread ender = Thread.ofPlatform().start(() -> { // ends holding its stack's block
                            try (StackFrame f = h.stack().push()) {
                                f.allocate(64).set(ValueLayout.JAVA_LONG, 0, 1);
                            } catch (HeapExhaustedException e) {
                                refused.incrementAndGet();
                            }
                        });
                        ender.join();
                        if (r % 4 == 0) h.trim(); // the registry's lock, frees under it
                    }
                } catch (Throwable e) {
                    failures.add(e.toString());
                }
            });
            threads.forEach(Thread::start);
            refuser.start();
            if (endersAndTrims) trimmer.start();
            refuser.join();
            if (endersAndTrims) trimmer.join();
            for (Thread t : threads) t.join();
            for (ConcurrentLinkedQueue<long[]> q : handed) {
                for (long[] b; (b = q.poll()) != null; ) free(h, b, failures, frees);
            }
            assertThat(failures).isEmpty();
            assertThat(refused.get()).as("requests refused").isPositive();
            // The stacks' blocks are the heap's blocks too: counted, and live while the pool keeps them idle
            StackRegistry stacks = (StackRegistry) Internals.field(h, Heap.class, "stacks");
            long created = stacks.createdStacks(), held = stacks.liveStacks();
            HeapStats after = h.stats();
            assertThat(after.mallocCount() - before.mallocCount()).isEqualTo(mallocs.get() + created);
            assertThat(after.freeCount() - before.freeCount()).isEqualTo(frees.get() + created - held);
            assertThat(after.liveBlocks()).isEqualTo(held);
            assertThat(after.liveBytes()).isEqualTo(held * stacks.blockSize());
            assertThat(h.verify()).isEmpty();
        }
    }

    private static void tag(long p, long size, long tag) {
        MemorySegment s = MemorySegment.ofAddress(p).reinterpret(size);
        s.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, tag);
        s.set(ValueLayout.JAVA_LONG_UNALIGNED, size - 8, ~tag);
    }

    private static void free(Heap h, long[] b, ConcurrentLinkedQueue<String> failures, AtomicLong frees) {
        MemorySegment s = MemorySegment.ofAddress(b[0]).reinterpret(b[1]);
        long head = s.get(ValueLayout.JAVA_LONG_UNALIGNED, 0), tail = s.get(ValueLayout.JAVA_LONG_UNALIGNED, b[1] - 8);
        if (head != b[2] || tail != ~b[2]) {
            failures.add("block " + Long.toHexString(b[0]) + " of " + b[1] + " bytes overwritten while held");
        }
        h.free(b[0]);
        frees.incrementAndGet();
    }
}
