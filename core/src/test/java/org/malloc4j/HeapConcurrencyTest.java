package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Threads share a heap: each block carries a pattern derived from its identity, checked by whichever thread frees
 * it; at the end the heap's account must equal the blocks that remain, with no overlap. Sized to run in seconds.
 */
class HeapConcurrencyTest {
    private static final int THREADS = 4;
    private static final int OPS_PER_THREAD = 30_000;

    /** A block and the identity its pattern derives from. */
    record Block(long address, long size, long id) {
        byte fill() {
            return Blocks.patternOf(id);
        }

        /** The whole block (up to 4 KiB; bigger ones in their sampled regions), plus its identity in the first word. */
        void write() {
            Blocks.fill(address, size, fill());
            if (size >= 8) Blocks.ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, address, id);
        }

        void verify(String when) {
            if (size >= 8) {
                long seen = Blocks.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, address);
                if (seen != id) {
                    throw new AssertionError(when + ": block " + Blocks.hex(address) + " of " + size
                            + " bytes holds id " + seen + ", expected " + id);
                }
                Blocks.check(address, size, 8, size, fill());
            } else {
                Blocks.check(address, size, size, fill());
            }
        }
    }

    private static long randomSize(SplittableRandom r) {
        int dice = r.nextInt(1000);
        if (dice < 800) return r.nextLong(0, 257); // mostly small
        if (dice < 970) return r.nextLong(257, 32 * 1024 + 1);
        if (dice < 997) return r.nextLong(32 * 1024, 1L << 20);
        return r.nextLong(1L << 20, 6L << 20);
    }

    /** In CHECKED mode too: each thread frees into its own quarantine ring, and blocks leave it on other threads. */
    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void threadsAllocateReallocAndFreeEachOthersBlocks(HeapMode mode) throws Exception {
        try (Heap heap = Heap.builder().name("concurrent").mode(mode).jmx(false).build()) {
            ConcurrentLinkedQueue<Block> handOver = new ConcurrentLinkedQueue<>();
            AtomicLong ids = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CyclicBarrier start = new CyclicBarrier(THREADS);
            List<List<Block>> kept = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                List<Block> mine = new ArrayList<>();
                kept.add(mine);
                long seed = 0xC0FFEEL * (t + 1);
                Thread thread = new Thread(() -> {
                    try {
                        start.await();
                        work(heap, new SplittableRandom(seed), mine, handOver, ids);
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }, "worker-" + t);
                threads.add(thread);
                thread.start();
            }
            for (Thread t : threads) t.join();
            if (failure.get() != null) throw new AssertionError("a worker failed", failure.get());

            List<Block> remaining = new ArrayList<>(handOver);
            for (List<Block> mine : kept) remaining.addAll(mine);
            long bytes = 0;
            for (Block b : remaining) {
                b.verify("at the end");
                bytes += b.size;
            }
            HeapStats s = heap.stats();
            assertThat(s.liveBytes()).as("liveBytes = sum of the remaining blocks").isEqualTo(bytes);
            assertThat(s.liveBlocks()).as("liveBlocks = remaining blocks").isEqualTo(remaining.size());
            assertNoOverlap(heap, remaining);
            assertThat(heap.verify()).as("no block damaged, none in quarantine written to").isEmpty();

            // Free everything from this thread (remote frees for every worker's slabs): the account is empty.
            for (Block b : remaining) heap.free(b.address);
            HeapStats end = heap.stats();
            assertThat(end.liveBytes()).isZero();
            assertThat(end.liveBlocks()).isZero();
            // Every remote free is collected by trim() or when the owner next refills; in either case no leak
            // shows in the account, and the heap still works.
            HeapErrorTest.assertStillWorks(heap);
        }
    }

    /** One worker: random malloc, realloc and free; a share of its blocks is freed by other threads. */
    private static void work(Heap heap, SplittableRandom r, List<Block> mine, ConcurrentLinkedQueue<Block> handOver,
            AtomicLong ids) {
        for (int op = 0; op < OPS_PER_THREAD; op++) {
            int dice = r.nextInt(100);
            if (dice < 45 || mine.isEmpty()) {
                long size = randomSize(r);
                Block b = new Block(heap.malloc(size), size, ids.incrementAndGet());
                b.write();
                mine.add(b);
            } else if (dice < 60) {
                int i = r.nextInt(mine.size());
                Block b = mine.get(i);
                b.verify("before realloc");
                long size = randomSize(r);
                long q = heap.realloc(b.address, size);
                if (size == 0) {
                    assertThat(q).isZero();
                    mine.set(i, mine.get(mine.size() - 1));
                    mine.remove(mine.size() - 1);
                    continue;
                }
                long kept = Math.min(b.size, size);
                if (b.size >= 8 && kept >= 8) {
                    assertThat(Blocks.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, q)).as("id kept by realloc").isEqualTo(b.id);
                    Blocks.check(q, b.size, 8, kept, b.fill());
                } else {
                    Blocks.check(q, b.size, b.size >= 8 ? 8 : 0, kept, b.fill());
                }
                Block moved = new Block(q, size, ids.incrementAndGet());
                moved.write();
                mine.set(i, moved);
            } else if (dice < 80) {
                int i = r.nextInt(mine.size());
                Block b = mine.get(i);
                mine.set(i, mine.get(mine.size() - 1));
                mine.remove(mine.size() - 1);
                b.verify("before a local free");
                if (r.nextInt(3) == 0) {
                    handOver.add(b); // someone else (maybe us) frees it
                } else {
                    heap.free(b.address);
                }
            } else {
                Block b = handOver.poll();
                if (b != null) {
                    b.verify("before a handed-over free");
                    heap.free(b.address);
                }
            }
            // Keep the working set bounded (a few thousand blocks per thread).
            while (mine.size() > 3000) {
                Block b = mine.remove(mine.size() - 1);
                b.verify("before trimming the working set");
                heap.free(b.address);
            }
        }
    }

    private static void assertNoOverlap(Heap heap, List<Block> blocks) {
        List<long[]> extents = new ArrayList<>();
        for (Block b : blocks) extents.add(new long[] {b.address, Math.max(1, heap.usableSize(b.address))});
        extents.sort(Comparator.comparingLong(e -> e[0]));
        for (int i = 1; i < extents.size(); i++) {
            long[] prev = extents.get(i - 1), cur = extents.get(i);
            assertThat(prev[0] + prev[1]).as("block %s (usable %d) overlaps the block at %s",
                    Blocks.hex(prev[0]), prev[1], Blocks.hex(cur[0])).isLessThanOrEqualTo(cur[0]);
        }
    }

    /**
     * Blocks freed by another thread while their owner makes no further call: their owner has not collected the frees,
     * and the statistics still give the sizes asked for, not the block sizes their freeing thread counted.
     */
    @Test
    void liveBytesAreExactWhileTheOwnerHasNotCollectedOtherThreadsFrees() throws Exception {
        try (Heap heap = Heap.create()) {
            long[] blocks = new long[200];
            long asked = 0;
            for (int i = 0; i < blocks.length; i++) {
                long size = 17 + (i * 7) % 200; // sizes between the classes: every block has slack
                blocks[i] = heap.malloc(size);
                asked += size;
            }
            assertThat(heap.stats().liveBytes()).isEqualTo(asked);
            long[] freedBytes = new long[1];
            Thread freer = new Thread(() -> {
                for (int i = 0; i < blocks.length; i += 2) {
                    heap.free(blocks[i]);
                    freedBytes[0] += 17 + (i * 7) % 200;
                }
            });
            freer.start();
            freer.join();
            HeapStats s = heap.stats();
            assertThat(s.liveBytes()).as("half freed by another thread, none collected").isEqualTo(asked - freedBytes[0]);
            assertThat(s.liveBlocks()).isEqualTo(blocks.length / 2);
            for (int i = 1; i < blocks.length; i += 2) heap.free(blocks[i]);
            assertThat(heap.stats().liveBytes()).isZero();
            long again = heap.malloc(100); // the owner's next slabs may collect the remote frees: still exact
            assertThat(heap.stats().liveBytes()).isEqualTo(100);
            heap.free(again);
            heap.trim();
            assertThat(heap.stats().liveBytes()).isZero();
        }
    }

    /**
     * The owner of blocks freed by other threads dies before it collects the frees: the live bytes stay exact before
     * its cache is adopted, after another thread's slow paths, after {@code trim()} and once every block is freed; in
     * both modes, for small and medium blocks, with virtual threads as the owner or the freeing thread.
     */
    @ParameterizedTest
    @CsvSource({"FAST, false, false, false", "FAST, true, false, false", "FAST, false, true, false",
            "FAST, false, false, true", "CHECKED, false, false, false", "CHECKED, true, false, true"})
    void liveBytesStayExactWhenTheOwnerOfRemotelyFreedBlocksDies(HeapMode mode, boolean medium, boolean virtualOwner,
            boolean virtualFreer) throws Exception {
        int n = medium ? 40 : 300;
        java.util.function.IntToLongFunction size = medium ? i -> 33_000 + (i * 977L) % 30_000 : i -> 17 + (i * 7L) % 200;
        try (Heap heap = Heap.builder().mode(mode).jmx(false).build()) {
            long[] blocks = new long[n];
            long asked = 0, freed = 0;
            for (int i = 0; i < n; i++) asked += size.applyAsLong(i);
            runOn(virtualOwner, () -> {
                for (int i = 0; i < n; i++) blocks[i] = heap.malloc(size.applyAsLong(i));
            });
            assertThat(heap.stats().liveBytes()).isEqualTo(asked);
            runOn(virtualFreer, () -> {
                for (int i = 0; i < n; i += 2) heap.free(blocks[i]);
            });
            for (int i = 0; i < n; i += 2) freed += size.applyAsLong(i);
            assertThat(heap.stats().liveBytes()).as("the owner dead, its cache not adopted").isEqualTo(asked - freed);
            runOn(false, () -> {
                for (int k = 0; k < 2000; k++) heap.free(heap.malloc(16 + k % 3000));
            });
            assertThat(heap.stats().liveBytes()).as("after another thread's slow paths").isEqualTo(asked - freed);
            heap.trim();
            assertThat(heap.stats().liveBytes()).as("after trim").isEqualTo(asked - freed);
            runOn(false, () -> {
                for (int i = 1; i < n; i += 2) heap.free(blocks[i]);
            });
            assertThat(heap.stats().liveBytes()).as("all freed").isZero();
            heap.trim();
            assertThat(heap.stats().liveBytes()).isZero();
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    /**
     * Statistics read all the while producers die and consumers (one virtual) free their blocks: no read fails, and
     * the heap is empty by the count once every block is freed.
     */
    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void statsReadWhileOwnersDieAndOthersFreeTheirBlocksEndExact(HeapMode mode) throws Exception {
        try (Heap heap = Heap.builder().mode(mode).jmx(false).build()) {
            BlockingQueue<long[]> queue = new java.util.concurrent.LinkedBlockingQueue<>();
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread reader = Thread.ofPlatform().start(() -> {
                try {
                    while (!stop.get()) assertThat(heap.countersForTests().liveBytes()).isNotNegative();
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            Thread[] consumers = new Thread[3];
            for (int c = 0; c < consumers.length; c++) {
                consumers[c] = (c == 2 ? Thread.ofVirtual() : Thread.ofPlatform()).start(() -> {
                    try {
                        for (long[] p; (p = queue.take()).length > 0; ) heap.free(p[0]);
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                });
            }
            for (int wave = 0; wave < 50; wave++) {
                int w = wave;
                runOn(false, () -> { // each producer dies after its wave; a later thread adopts its cache
                    for (int i = 0; i < 1000; i++) {
                        long size = i % 50 == 0 ? 33_000 + i : 17 + (i * 7L + w) % 1000;
                        queue.add(new long[] {heap.malloc(size)});
                    }
                });
            }
            for (int c = 0; c < consumers.length; c++) queue.add(new long[0]);
            for (Thread c : consumers) c.join();
            stop.set(true);
            reader.join();
            if (failure.get() != null) throw new AssertionError(failure.get());
            assertThat(heap.stats().liveBytes()).isZero();
            heap.trim();
            assertThat(heap.stats().liveBytes()).isZero();
        }
    }

    private static void runOn(boolean virtual, Runnable work) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = (virtual ? Thread.ofVirtual() : Thread.ofPlatform()).start(() -> {
            try {
                work.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.join();
        if (failure.get() != null) throw new AssertionError(failure.get());
    }

    /**
     * Producer/consumer (xmalloc-like): one thread allocates, another frees every block. The owner collects the
     * remote frees when it refills, so committed memory stays within a small factor of what is live, however many
     * blocks go through.
     */
    @Test
    void producerConsumerReusesRemotelyFreedMemory() throws Exception {
        int total = 1_000_000;
        int batch = 1000;
        int queued = 16; // batches in flight at most
        long maxSize = 256;
        try (Heap heap = Heap.builder().name("xmalloc").build()) {
            BlockingQueue<long[]> queue = new ArrayBlockingQueue<>(queued);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong maxCommitted = new AtomicLong();
            Thread producer = new Thread(() -> {
                try {
                    SplittableRandom r = new SplittableRandom(42);
                    for (int n = 0; n < total; n += batch) {
                        long[] blocks = new long[2 * batch];
                        for (int i = 0; i < batch; i++) {
                            long size = r.nextLong(16, maxSize + 1);
                            long p = heap.malloc(size);
                            Blocks.ALL.set(ValueLayout.JAVA_LONG, p, n + i);
                            Blocks.ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, p + size - 8, ~(long) (n + i));
                            blocks[2 * i] = p;
                            blocks[2 * i + 1] = size;
                        }
                        if (!queue.offer(blocks, 60, TimeUnit.SECONDS)) throw new AssertionError("consumer stalled");
                        if ((n / batch) % 50 == 0) {
                            maxCommitted.accumulateAndGet(heap.stats().committedBytes(), Math::max);
                        }
                    }
                    queue.put(new long[0]);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    queue.offer(new long[0]);
                }
            }, "producer");
            Thread consumer = new Thread(() -> {
                try {
                    long expect = 0;
                    for (long[] blocks; (blocks = queue.poll(60, TimeUnit.SECONDS)) != null && blocks.length > 0; ) {
                        for (int i = 0; i < blocks.length; i += 2) {
                            long p = blocks[i], size = blocks[i + 1];
                            long id = Blocks.ALL.get(ValueLayout.JAVA_LONG, p);
                            long tail = Blocks.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, p + size - 8);
                            if (id != expect || tail != ~expect) {
                                throw new AssertionError("block " + Blocks.hex(p) + " holds " + id + "/" + ~tail
                                        + ", expected " + expect);
                            }
                            expect++;
                            heap.free(p);
                        }
                    }
                    if (expect != total) throw new AssertionError("consumer saw " + expect + " of " + total);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "consumer");
            producer.start();
            consumer.start();
            producer.join();
            consumer.join();
            if (failure.get() != null) throw new AssertionError("producer/consumer failed", failure.get());

            HeapStats s = heap.stats();
            assertThat(s.liveBytes()).isZero();
            assertThat(s.liveBlocks()).isZero();
            assertThat(s.mallocCount()).isEqualTo(total);
            assertThat(s.freeCount()).isEqualTo(total);
            // At most (queued + 2) batches are live at once: about 18k blocks of <= 256 bytes, under 5 MiB.
            long maxLive = (queued + 2L) * batch * maxSize;
            long bound = 4 * maxLive;
            assertThat(s.peakCommittedBytes()).as("peak committed with %d blocks freed remotely (%d MB went through)",
                    total, total * (maxSize / 2) >> 20).isLessThanOrEqualTo(bound);
            assertThat(maxCommitted.get()).isLessThanOrEqualTo(bound);
        }
    }
}
