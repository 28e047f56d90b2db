package org.malloc4j.bench;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * Single thread: {@value #BLOCKS} blocks of {@code size} bytes allocated, each one's first 8 bytes written, then freed
 * newest first; score per malloc+free pair. The CLI's fragmentation demo times its 128 KiB probes this way. At a medium
 * size (36 to 256 KiB) the blocks held at once pass what an allocator keeps cached per thread (malloc4j's spare budget
 * holds four 128 KiB slabs, jemalloc's thread cache stops at 32 KiB), so most pairs go to the page layer and back: what
 * shows is that layer's cost, where {@link LifoBenchmark} shows the thread cache's.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CycleBenchmark extends AnchoredBenchmark {
    /** Blocks held at once: the fragmentation demo's batch. */
    public static final int BLOCKS = 16;

    /** Which allocator: see {@link Subject#NAMES}. */
    @Param({"malloc4j", "glibc", "jemalloc", "mimalloc", "tcmalloc", "nettyPooled", "nettyAdaptive", "arena"})
    public String allocator;

    /** Block size in bytes: by default the fragmentation demo's probe. */
    @Param({"131072"})
    public long size;

    @SuppressWarnings("restricted")
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    private Subject subject;
    private final long[] addresses = new long[BLOCKS];

    @Setup(Level.Trial)
    public void setUp() {
        subject = Subject.openTelling(allocator, BLOCKS);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        subject.close();
    }

    /** {@value #BLOCKS} mallocs, then {@value #BLOCKS} frees, newest first. */
    @Benchmark
    @OperationsPerInvocation(BLOCKS)
    public long cycle() {
        Subject s = subject;
        long[] addr = addresses;
        long n = size, sum = 0;
        for (int i = 0; i < BLOCKS; i++) {
            long a = s.allocate(i, n);
            ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, a, a);
            addr[i] = a;
        }
        for (int i = BLOCKS - 1; i >= 0; i--) {
            long a = addr[i];
            sum += a;
            s.free(i, a);
        }
        return sum;
    }
}
