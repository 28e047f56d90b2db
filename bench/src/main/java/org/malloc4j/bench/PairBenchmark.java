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

/**
 * Single-thread malloc+free pairs at one fixed size: the time of one {@code malloc(size)}, a write of every byte of
 * the block ({@link Blocks#write}), and its {@code free}, per allocator. This is the fast path of each allocator with
 * a hot thread cache: the same block (or the same few) comes back every time.
 *
 * <p>Every allocator runs the same code; see {@link Subject} for how each one gets and gives back a block. malloc4j
 * gets a fresh {@code Heap.create()} per trial, closed at teardown. With {@code -prof gc}, malloc4j and the native
 * anchors must show about 0 B/op; so do Netty's allocators, which recycle their {@code ByteBuf} objects on the
 * benchmark's {@code FastThreadLocalThread}s ({@link NettyThreadExecutor}); Arena makes an arena and a segment a block.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PairBenchmark extends AnchoredBenchmark {
    /** Block size in bytes. */
    @Param({"16", "64", "256", "4096", "65536", "1048576"})
    public long size;

    /** Which allocator: see {@link Subject#NAMES}. */
    @Param({"malloc4j", "glibc", "jemalloc", "mimalloc", "tcmalloc", "nettyPooled", "nettyAdaptive", "arena"})
    public String allocator;

    private Subject subject;

    @Setup(Level.Trial)
    public void setUp() {
        subject = Subject.openTelling(allocator, 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        subject.close();
    }

    /** One malloc, a write of the whole block, one free. Returns the address so that nothing is dead code. */
    @Benchmark
    public long pair() {
        Subject s = subject;
        long a = s.allocate(0, size);
        Blocks.write(a, size);
        s.free(0, a);
        return a;
    }
}
