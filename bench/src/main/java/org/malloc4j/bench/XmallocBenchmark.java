package org.malloc4j.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.Control;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * Multi-thread, xmalloc-like producer/consumer: every block is freed by a thread other than the one that allocated
 * it. Threads come in pairs of one producer and one consumer; the producer allocates batches of
 * {@value #BATCH} blocks of random sizes from {@value #MIN_SIZE} to {@value #MAX_SIZE} bytes, writes each one whole
 * ({@link Blocks#write}) and hands the batch to its consumer through a bounded ring of {@value #RING} batches; the
 * consumer frees the blocks. All pairs share one allocator. The JMH groups {@code pairs1}, {@code pairs2} and
 * {@code pairs4} run 1, 2 and 4 producers ({@code produceN}) and as many consumers ({@code consumeN}), the k-th
 * producer paired with the k-th consumer: 2, 4 and 8 threads (on this 2-core machine 1 pair fills the cores and
 * the others oversubscribe them). Pass {@code -tg} only as {@code N,N} with one group selected, for N pairs
 * ({@code scripts/device-scaling.sh} runs {@code pairs1} so); {@code -t} would run several groups, each with its own
 * pairs.
 *
 * <p>Score: blocks per microsecond (each allocated, written and freed), summed over the pairs: higher is better.
 * JMH sums a group's producer and consumer invocations, so each of them counts {@value #BATCH}/2 operations: in
 * the steady state producers and consumers go at the same rate (the ring is bounded), and the sum is the block
 * rate. The per-method figures JMH prints under the group ({@code produceN}, {@code consumeN}) are each half of it.
 *
 * <p>The ring: one per pair, an array of {@value #RING} x {@value #BATCH} addresses allocated once, a head that only
 * the producer writes and a tail that only the consumer writes, each on its own cache line, published with release
 * stores and read with acquire loads; each side caches the other's index and rereads it only when the ring looks
 * full (empty). No locks, no boxing, no garbage: the handoff costs a few nanoseconds a batch, next to
 * {@value #BATCH} mallocs and frees. A side that finds the ring full (empty) spins, then yields, until the other side
 * catches up or JMH ends the iteration ({@link Control#stopMeasurement}); a pair never deadlocks at an iteration's
 * end. Blocks still in the rings when the trial ends are freed at teardown.
 *
 * <p>Sizes come from a fixed seed per pair ({@value #SEED} plus the pair's index), precomputed: every allocator sees
 * the same blocks. At teardown the fork prints malloc4j's committed and live memory (and the Netty allocators'
 * used direct memory) while the rings still hold their blocks, and again after they are freed and the heap
 * trimmed: with a bounded ring the live memory is bounded, and committed memory must stay within a small factor
 * of it (it must not grow with the number of blocks that went through).
 *
 * <p>{@code arena} is left out: a confined {@code Arena} can be closed only by the thread that opened it, so the
 * consumer could not free the producer's blocks. (A shared arena per block could be, but every {@code close} of a
 * shared arena is a handshake with all threads of the JVM: that is a different benchmark.) Passed with
 * {@code -p allocator=arena}, the trial fails at setup saying so.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class XmallocBenchmark extends AnchoredBenchmark {
    /** Blocks per batch. */
    public static final int BATCH = 100;
    /** Batches a ring holds (a power of two): what bounds the blocks in flight per pair. */
    public static final int RING = 16;
    /** Smallest and largest block size, inclusive. */
    public static final int MIN_SIZE = 16, MAX_SIZE = 512;
    /** Precomputed sizes per pair (a power of two), replayed in a cycle. */
    public static final int SIZES = 1 << 14;
    /** Base seed; pair {@code i} uses {@code SEED + i}. */
    public static final long SEED = 0x786d616c6c6f634aL;

    /** Allocators that cannot free across threads, with the reason. */
    static final String ARENA_REASON = "arena is left out of XmallocBenchmark: a confined Arena can be closed only by "
            + "the thread that opened it, so the consumer thread could not free the producer's blocks";

    /** Which allocator: see {@link Subject#NAMES} (all but {@code arena}). */
    @Param({"malloc4j", "glibc", "jemalloc", "mimalloc", "tcmalloc", "nettyPooled", "nettyAdaptive"})
    public String allocator;

    Subject subject;
    Ring[] rings;
    int pairsPerGroup;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        if (allocator.equals("arena")) throw new IllegalArgumentException(ARENA_REASON);
        int[] sides = params.getThreadGroups(); // producers and consumers per group
        if (sides.length != 2 || sides[0] != sides[1]) {
            throw new IllegalStateException("expected as many producers as consumers, got " + sides.length
                    + " subgroups " + java.util.Arrays.toString(sides) + "; pass -tg as N,N (N pairs) or not at all");
        }
        pairsPerGroup = sides[0];
        int pairs = params.getThreads() / (2 * pairsPerGroup) * pairsPerGroup;
        subject = Subject.openTelling(allocator, pairs * RING * BATCH);
        rings = new Ring[pairs];
        for (int p = 0; p < pairs; p++) rings[p] = new Ring(p * RING * BATCH, SEED + p);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        // JMH runs this on one of the threads once all of them have passed its pre-teardown barrier: every producer
        // and consumer has stopped, and nothing else has a thread-scoped teardown.
        long inFlight = 0;
        for (Ring r : rings) inFlight += r.inFlight();
        String before = subject.memoryReport();
        if (before != null) {
            System.out.println("xmalloc " + allocator + " " + rings.length + " pair(s), end of trial, " + inFlight
                    + " blocks still in the rings: " + before);
        }
        for (Ring r : rings) r.drain(subject);
        if (subject instanceof Subject.Malloc4j m) m.trim();
        String after = subject.memoryReport();
        if (after != null) {
            System.out.println("xmalloc " + allocator + " " + rings.length + " pair(s), rings drained"
                    + (subject instanceof Subject.Malloc4j ? " and heap trimmed: " : ": ") + after);
        }
        subject.close();
    }

    /**
     * One pair's handoff: a single-producer single-consumer ring of batches, and the producer's sizes. The head and
     * the tail are elements 16 and 32 of one {@code long[]}, so that they sit on separate cache lines and away from
     * the array header (array elements, unlike fields, keep their order).
     */
    static final class Ring {
        private static final VarHandle INDEX = MethodHandles.arrayElementVarHandle(long[].class);
        private static final int HEAD = 16, TAIL = 32;

        final long[] blocks = new long[RING * BATCH];
        final long[] index = new long[TAIL + 16];
        final int[] sizes = new int[SIZES];
        /** The subject's slot number of {@code blocks[0]} (Netty keeps its ByteBufs by slot). */
        final int slotBase;

        Ring(int slotBase, long seed) {
            this.slotBase = slotBase;
            SplittableRandom random = new SplittableRandom(seed);
            for (int i = 0; i < SIZES; i++) sizes[i] = random.nextInt(MIN_SIZE, MAX_SIZE + 1);
        }

        long head() {
            return (long) INDEX.getAcquire(index, HEAD);
        }

        long tail() {
            return (long) INDEX.getAcquire(index, TAIL);
        }

        void publishHead(long h) {
            INDEX.setRelease(index, HEAD, h);
        }

        void publishTail(long t) {
            INDEX.setRelease(index, TAIL, t);
        }

        /** Blocks allocated and not yet freed (call only when both sides are stopped). */
        long inFlight() {
            return (head() - tail()) * BATCH;
        }

        /** Frees what the consumer did not get to (call only when both sides are stopped). */
        void drain(Subject s) {
            long h = head();
            for (long t = tail(); t < h; t++) {
                int base = (int) (t & (RING - 1)) * BATCH;
                for (int k = 0; k < BATCH; k++) {
                    s.free(slotBase + base + k, blocks[base + k]);
                    blocks[base + k] = 0;
                }
                publishTail(t + 1);
            }
        }
    }

    /** One producer's or one consumer's view of its pair's ring: its own index and its cached copy of the other's. */
    @State(Scope.Thread)
    public static class Side {
        Ring ring;
        Subject subject;
        long mine;
        long theirs;
        int nextSize;

        @Setup(Level.Trial)
        public void setUp(XmallocBenchmark bench, ThreadParams thread) {
            // The k-th producer of a group pairs with the k-th consumer of the same group.
            ring = bench.rings[thread.getGroupIndex() * bench.pairsPerGroup + thread.getSubgroupThreadIndex()];
            subject = bench.subject;
            // The ring is new: head and tail are both 0. JMH keeps this state with this thread for the whole trial.
            mine = 0;
            theirs = 0;
        }

        /** Allocates, writes and publishes one batch; returns at once if JMH ends the iteration while it waits. */
        void produce(Control control) {
            Ring r = ring;
            long h = mine;
            if (h - theirs >= RING) {
                theirs = r.tail();
                for (int spins = 0; h - theirs >= RING; spins++) {
                    if (control.stopMeasurement) return;
                    pause(spins);
                    theirs = r.tail();
                }
            }
            Subject s = subject;
            long[] blocks = r.blocks;
            int[] sizes = r.sizes;
            int base = (int) (h & (RING - 1)) * BATCH, slot = r.slotBase + base;
            int i = nextSize;
            for (int k = 0; k < BATCH; k++) {
                int size = sizes[i++ & (SIZES - 1)];
                long a = s.allocate(slot + k, size);
                Blocks.write(a, size);
                blocks[base + k] = a;
            }
            nextSize = i;
            mine = h + 1;
            r.publishHead(h + 1);
        }

        /** Frees one published batch; returns at once if JMH ends the iteration while it waits. */
        long consume(Control control) {
            Ring r = ring;
            long t = mine;
            if (t >= theirs) {
                theirs = r.head();
                for (int spins = 0; t >= theirs; spins++) {
                    if (control.stopMeasurement) return 0;
                    pause(spins);
                    theirs = r.head();
                }
            }
            Subject s = subject;
            long[] blocks = r.blocks;
            int base = (int) (t & (RING - 1)) * BATCH, slot = r.slotBase + base;
            long sum = 0;
            for (int k = 0; k < BATCH; k++) {
                long a = blocks[base + k];
                sum += a;
                s.free(slot + k, a);
            }
            mine = t + 1;
            r.publishTail(t + 1);
            return sum;
        }

        /** Spins a little, then yields: with more threads than cores the other side needs the core to catch up. */
        private static void pause(int spins) {
            if (spins < 64) Thread.onSpinWait();
            else Thread.yield();
        }
    }

    // One group per pair count. @OperationsPerInvocation(BATCH / 2) on both sides: see the class comment.

    @Benchmark
    @Group("pairs1")
    @GroupThreads(1)
    @OperationsPerInvocation(BATCH / 2)
    public void produce1(Side side, Control control) {
        side.produce(control);
    }

    @Benchmark
    @Group("pairs1")
    @GroupThreads(1)
    @OperationsPerInvocation(BATCH / 2)
    public long consume1(Side side, Control control) {
        return side.consume(control);
    }

    @Benchmark
    @Group("pairs2")
    @GroupThreads(2)
    @OperationsPerInvocation(BATCH / 2)
    public void produce2(Side side, Control control) {
        side.produce(control);
    }

    @Benchmark
    @Group("pairs2")
    @GroupThreads(2)
    @OperationsPerInvocation(BATCH / 2)
    public long consume2(Side side, Control control) {
        return side.consume(control);
    }

    @Benchmark
    @Group("pairs4")
    @GroupThreads(4)
    @OperationsPerInvocation(BATCH / 2)
    public void produce4(Side side, Control control) {
        side.produce(control);
    }

    @Benchmark
    @Group("pairs4")
    @GroupThreads(4)
    @OperationsPerInvocation(BATCH / 2)
    public long consume4(Side side, Control control) {
        return side.consume(control);
    }
}
