package org.malloc4j.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Two buffers that grow side by side by doubling, as two vectors or two output buffers of a program do: from
 * 64 KiB to {@link #max} bytes, each {@code realloc} followed by a write of the half the buffer gained, then both
 * freed. Each buffer stands in the other's way, so that a buffer can seldom grow in place and the allocator moves
 * it: by copying its bytes, or (glibc's {@code mremap} of its mmapped chunks, malloc4j's page moves for blocks
 * it gives back on free, 32 MiB and up by default) by moving its pages. Netty grows a buffer with
 * {@code capacity(n)}, Arena with a new arena, a copy and the old one closed ({@link Subject#reallocate}). The time
 * is for the whole growth of both buffers, writes included (the same writes for every allocator); with nothing
 * else live, the freed buffers' pages are the allocator's to keep or give back, and most of the time at 128 MiB
 * is page faults where an allocator gives them back.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
public class ReallocBenchmark extends AnchoredBenchmark {
    /** The size both buffers grow to, in bytes (a power of two, 128 KiB or more). */
    @Param({"1048576", "16777216", "134217728"})
    public long max;

    /** Which allocator: see {@link Subject#NAMES}. */
    @Param({"malloc4j", "glibc", "jemalloc", "mimalloc", "tcmalloc", "nettyPooled", "nettyAdaptive", "arena"})
    public String allocator;

    private static final long FIRST = 64 << 10;

    private Subject subject;

    @Setup(Level.Trial)
    public void setUp() {
        if (Long.bitCount(max) != 1 || max < 2 * FIRST) {
            throw new IllegalArgumentException("max must be a power of two of at least 128 KiB: " + max);
        }
        subject = Subject.open(allocator, 2);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        subject.close();
    }

    /** Grows both buffers from 64 KiB to {@link #max}, alternately, writing what each gains; frees both. */
    @Benchmark
    public long grow() {
        Subject s = subject;
        long a = s.allocate(0, FIRST);
        long b = s.allocate(1, FIRST);
        Blocks.write(a, FIRST);
        Blocks.write(b, FIRST);
        long sum = 0;
        for (long size = FIRST; size < max; size <<= 1) {
            a = s.reallocate(0, a, size, 2 * size);
            Blocks.write(a + size, size);
            b = s.reallocate(1, b, size, 2 * size);
            Blocks.write(b + size, size);
            sum += a ^ b;
        }
        s.free(0, a);
        s.free(1, b);
        return sum;
    }
}
