package org.malloc4j.bench;

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
 * Single thread: allocate {@code n} blocks of {@value #SIZE} bytes, then free them newest first; score per
 * malloc+free pair. Nothing is written into the blocks: what shows is the allocator's own work in a loop, as a
 * program's loop meets it, and how that changes once the allocator's slow path has run.
 *
 * <p>malloc4j's slab for {@value #SIZE}-byte blocks holds 64 of them, so {@code stack64} never leaves its first slab
 * (after the first invocation no slow path ever runs, and the JIT compiles the slow path out of the loop), while
 * {@code stack65} takes a slow path every 65 pairs (a slab changes lists twice). The native allocators do not care
 * where 64 is. Each method runs in its own forks, so each has its own profile. See docs/benchmarks.md,
 * "LifoBenchmark".
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LifoBenchmark extends AnchoredBenchmark {
    /** Block size in bytes. */
    public static final int SIZE = 256;

    /** Which allocator: see {@link Subject#NAMES}. */
    @Param({"malloc4j", "glibc", "jemalloc", "mimalloc", "tcmalloc", "nettyPooled", "nettyAdaptive", "arena"})
    public String allocator;

    private Subject subject;
    private final long[] addresses = new long[1000];

    @Setup(Level.Trial)
    public void setUp() {
        subject = Subject.openTelling(allocator, addresses.length);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        subject.close();
    }

    private long stack(int n) {
        Subject s = subject;
        long[] addr = addresses;
        long sum = 0;
        for (int i = 0; i < n; i++) addr[i] = s.allocate(i, SIZE);
        for (int i = n - 1; i >= 0; i--) {
            long a = addr[i];
            sum += a;
            s.free(i, a);
        }
        return sum;
    }

    /** 64 blocks: one malloc4j slab. */
    @Benchmark
    @OperationsPerInvocation(64)
    public long stack64() {
        return stack(64);
    }

    /** 65 blocks: two malloc4j slabs. */
    @Benchmark
    @OperationsPerInvocation(65)
    public long stack65() {
        return stack(65);
    }

    /** 1000 blocks: sixteen malloc4j slabs. */
    @Benchmark
    @OperationsPerInvocation(1000)
    public long stack1000() {
        return stack(1000);
    }
}
