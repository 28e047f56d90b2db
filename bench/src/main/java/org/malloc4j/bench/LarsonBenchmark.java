package org.malloc4j.bench;

import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * Multi-thread, larson-like: every thread owns {@value #SLOTS} slots, all full from the start; each operation
 * frees the block in a random slot and allocates a block of a random size from {@value #MIN_SIZE} to
 * {@value #MAX_SIZE} bytes into it, then writes its first and last 8 bytes. All threads share one allocator (one
 * {@code Heap} for malloc4j, the process's allocator for the native anchors, one Netty allocator); no block
 * crosses threads, so this measures the per-thread fast paths and how they hold up when threads compete for the
 * allocator and for the two cores (1 thread, 2 = the core count here, 4 = oversubscribed twice).
 *
 * <p>Score: operations (one free + one malloc + the write) per microsecond, summed over the threads: higher is
 * better. One benchmark method per thread count ({@code larson1}, {@code larson2}, {@code larson4}, each with its
 * {@code @Threads}), so that one run covers every count; do not pass {@code -t}, which would override them all.
 *
 * <p>The random slots and sizes are drawn before the trial from a fixed seed per thread index ({@value #SEED} plus
 * the index), packed in one {@code int[]} walked in order: the measured loop makes no random calls and no Java
 * garbage of its own, and every allocator sees the same operations. {@code arena} runs here (each confined arena is
 * closed by the thread that opened it); it does not in {@link XmallocBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class LarsonBenchmark extends AnchoredBenchmark {
    /** Slots per thread. */
    public static final int SLOTS = 1000;
    /** Smallest and largest block size, inclusive. */
    public static final int MIN_SIZE = 16, MAX_SIZE = 1024;
    /** Precomputed operations per thread (a power of two), replayed in a cycle. */
    public static final int OPS = 1 << 15;
    /** Operations per benchmark invocation (to amortise JMH's per-call bookkeeping). */
    public static final int BATCH = 64;
    /** Base seed; thread {@code i} uses {@code SEED + i}. */
    public static final long SEED = 0x6c6172736f6e4aL;

    private static final int SIZE_BITS = 11; // MAX_SIZE = 1024 fits in 11 bits; the slot goes above
    private static final int SIZE_MASK = (1 << SIZE_BITS) - 1;

    /** Which allocator: see {@link Subject#NAMES}. */
    @Param({"malloc4j", "glibc", "jemalloc", "mimalloc", "tcmalloc", "nettyPooled", "nettyAdaptive", "arena"})
    public String allocator;

    Subject subject;
    int threads;
    /** Threads that have freed their slots at the end of the trial. */
    final AtomicInteger workersDone = new AtomicInteger();

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        threads = params.getThreads();
        subject = Subject.openTelling(allocator, threads * SLOTS);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        // JMH runs this on the first thread to get here, after that thread's Worker.tearDown but possibly while
        // other threads are still in theirs (each frees its own slots, on its own thread: a confined arena must be
        // closed by its owner): wait for them before closing the allocator under them.
        while (workersDone.get() < threads) Thread.sleep(1);
        String report = subject.memoryReport();
        if (report != null) System.out.println("larson " + allocator + " at the end, every slot freed: " + report);
        subject.close();
    }

    /** One thread's slots and its precomputed operations. */
    @State(Scope.Thread)
    public static class Worker {
        final long[] blocks = new long[SLOTS];
        final int[] ops = new int[OPS];
        int base;
        int next;
        Subject subject;
        AtomicInteger done;

        /** Draws this thread's operations and fills every slot (on the thread itself, so it owns the blocks). */
        @Setup(Level.Trial)
        public void setUp(LarsonBenchmark bench, ThreadParams thread) {
            init(bench.subject, bench.workersDone, thread.getThreadIndex());
        }

        /**
         * Draws the operations of thread {@code index} and fills its slots from {@code subject}; call it on the thread
         * that will run them ({@link LarsonScaling} does, outside JMH). {@code done} counts the workers torn down.
         */
        void init(Subject subject, AtomicInteger done, int index) {
            this.subject = subject;
            this.done = done;
            base = index * SLOTS;
            SplittableRandom random = new SplittableRandom(SEED + index);
            for (int i = 0; i < OPS; i++) {
                int slot = random.nextInt(SLOTS);
                int size = random.nextInt(MIN_SIZE, MAX_SIZE + 1);
                ops[i] = slot << SIZE_BITS | size;
            }
            for (int slot = 0; slot < SLOTS; slot++) {
                int size = random.nextInt(MIN_SIZE, MAX_SIZE + 1);
                long a = subject.allocate(base + slot, size);
                touch(a, size);
                blocks[slot] = a;
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            try {
                for (int slot = 0; slot < SLOTS; slot++) {
                    long a = blocks[slot];
                    if (a != 0) subject.free(base + slot, a);
                    blocks[slot] = 0;
                }
            } finally {
                done.incrementAndGet();
            }
        }

        /** {@value #BATCH} operations: free a random slot, refill it with a block of a random size, touch it. */
        long run() {
            Subject s = subject;
            long[] b = blocks;
            int[] o = ops;
            int i = next, first = base;
            long sum = 0;
            for (int k = 0; k < BATCH; k++) {
                int op = o[i++ & (OPS - 1)];
                int slot = op >>> SIZE_BITS;
                int size = op & SIZE_MASK;
                long old = b[slot];
                if (old != 0) s.free(first + slot, old);
                long a = s.allocate(first + slot, size);
                touch(a, size);
                b[slot] = a;
                sum += a;
            }
            next = i;
            return sum;
        }
    }

    /** Writes the first and the last 8 bytes of the block (every size here is at least 16). */
    static void touch(long address, int size) {
        Blocks.ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, address, address);
        Blocks.ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, address + size - 8, address);
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(BATCH)
    public long larson1(Worker w) {
        return w.run();
    }

    @Benchmark
    @Threads(2)
    @OperationsPerInvocation(BATCH)
    public long larson2(Worker w) {
        return w.run();
    }

    @Benchmark
    @Threads(4)
    @OperationsPerInvocation(BATCH)
    public long larson4(Worker w) {
        return w.run();
    }
}
