package org.malloc4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.malloc4j.Heap;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code heap.newArena()} against the JDK's confined arena, single thread. Score: ns per block (lower is better).
 *
 * <ul>
 *   <li>{@code heapArenaBlock}: one block from a long-lived heap arena, written whole, freed early with
 *       {@code heap.free(segment)}; against {@code jdkArenaBlock}: what a plain FFM user does to free one block, an
 *       {@code Arena.ofConfined()} per block ({@code allocate}, write, {@code close}). The target: the heap
 *       arena at least 5x cheaper.</li>
 *   <li>{@code heapArena10k} and {@code jdkArena10k}: open an arena, allocate and write 10,000 blocks, close it
 *       (which frees them all); per block.</li>
 *   <li>{@code heapSegmentBlock}: a baseline, the same block as a plain heap segment ({@code heap.allocate},
 *       write, {@code heap.free(segment)}), to show what the arena adds.</li>
 * </ul>
 *
 * <p>Every block is written whole through its segment ({@code fill}), the same code for both. The JDK's arenas also
 * zero every block they allocate; the heap arena does not (its blocks are malloc's).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {BenchFlags.NATIVE_ACCESS, BenchFlags.XMS, BenchFlags.XMX})
public class ArenaBenchmark {
    private static final int BLOCKS = 10_000;
    private static final byte PATTERN = (byte) 0x5A;

    /** Block size in bytes. */
    @Param({"64", "1024"})
    public long size;

    private Heap heap;
    private Arena heapArena;

    /** Runs on the benchmark thread (a thread-scoped state), which then owns the confined heap arena. */
    @Setup(Level.Trial)
    public void setUp() {
        heap = Heap.create();
        heapArena = heap.newArena();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        heapArena.close();
        heap.close();
    }

    /** One block of a heap arena, written, freed early. */
    @Benchmark
    public long heapArenaBlock() {
        MemorySegment s = heapArena.allocate(size, 16);
        s.fill(PATTERN);
        heap.free(s);
        return s.address();
    }

    /**
     * Baseline, not an arena: the same block as a plain heap segment ({@code heap.allocate}, write,
     * {@code heap.free(segment)}); the difference to {@code heapArenaBlock} is what the arena's bookkeeping costs.
     */
    @Benchmark
    public long heapSegmentBlock() {
        MemorySegment s = heap.allocate(size, 16);
        s.fill(PATTERN);
        heap.free(s);
        return s.address();
    }

    /** One confined JDK arena per block: allocate, write, close. */
    @Benchmark
    public long jdkArenaBlock() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(size, 16);
            s.fill(PATTERN);
            return s.address();
        }
    }

    /** A heap arena of 10,000 written blocks, closed: per block. */
    @Benchmark
    @OperationsPerInvocation(BLOCKS)
    public long heapArena10k() {
        long sum = 0;
        try (Arena arena = heap.newArena()) {
            for (int i = 0; i < BLOCKS; i++) {
                MemorySegment s = arena.allocate(size, 16);
                s.fill(PATTERN);
                sum += s.address();
            }
        }
        return sum;
    }

    /** A confined JDK arena of 10,000 written blocks, closed: per block. */
    @Benchmark
    @OperationsPerInvocation(BLOCKS)
    public long jdkArena10k() {
        long sum = 0;
        try (Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < BLOCKS; i++) {
                MemorySegment s = arena.allocate(size, 16);
                s.fill(PATTERN);
                sum += s.address();
            }
        }
        return sum;
    }
}
