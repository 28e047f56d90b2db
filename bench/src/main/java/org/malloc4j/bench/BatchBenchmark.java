package org.malloc4j.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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

/**
 * Single-thread batches: allocate {@value #BLOCKS} blocks of random sizes from 16 to 512 bytes, write each one
 * whole ({@link Blocks#write}), then free them all in a random order. The score is per malloc+free pair (the
 * invocation's time divided by {@value #BLOCKS}), so it compares directly with {@link PairBenchmark}; unlike it, the
 * allocator must serve many live blocks over many size classes and take them back out of order.
 *
 * <p>The sizes and the free order are drawn once from a fixed seed ({@value #SEED}) and are the same for every
 * allocator and every fork. Nothing is allocated on the Java heap per invocation except by the subject itself.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class BatchBenchmark extends AnchoredBenchmark {
    /** Blocks per batch. */
    public static final int BLOCKS = 1000;
    /** Smallest and largest block size, inclusive. */
    public static final int MIN_SIZE = 16, MAX_SIZE = 512;
    /** Seed of the sizes and of the free order. */
    public static final long SEED = 0x6d616c6c6f63344aL;

    /** Which allocator: see {@link Subject#NAMES}. */
    @Param({"malloc4j", "glibc", "jemalloc", "mimalloc", "tcmalloc", "nettyPooled", "nettyAdaptive", "arena"})
    public String allocator;

    private Subject subject;
    private final long[] sizes = new long[BLOCKS];
    private final int[] freeOrder = new int[BLOCKS];
    private final long[] addresses = new long[BLOCKS];

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom random = new SplittableRandom(SEED);
        for (int i = 0; i < BLOCKS; i++) {
            sizes[i] = random.nextInt(MIN_SIZE, MAX_SIZE + 1);
            freeOrder[i] = i;
        }
        for (int i = BLOCKS - 1; i > 0; i--) { // Fisher-Yates
            int j = random.nextInt(i + 1);
            int t = freeOrder[i];
            freeOrder[i] = freeOrder[j];
            freeOrder[j] = t;
        }
        subject = Subject.openTelling(allocator, BLOCKS);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        subject.close();
    }

    /** {@value #BLOCKS} mallocs, each block written, then {@value #BLOCKS} frees in the precomputed order. */
    @Benchmark
    @OperationsPerInvocation(BLOCKS)
    public long batch() {
        Subject s = subject;
        long[] sz = sizes, addr = addresses;
        int[] order = freeOrder;
        long sum = 0;
        for (int i = 0; i < BLOCKS; i++) {
            long a = s.allocate(i, sz[i]);
            Blocks.write(a, sz[i]);
            addr[i] = a;
        }
        for (int k = 0; k < BLOCKS; k++) {
            int i = order[k];
            long a = addr[i];
            sum += a;
            s.free(i, a);
        }
        return sum;
    }
}
