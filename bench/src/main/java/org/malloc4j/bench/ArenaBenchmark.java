package org.malloc4j.bench;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

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
 *   <li>{@code heapArena10k} and {@code jdkArena10k}: open an arena, allocate and write 10,000 blocks, close it
 *       (which frees them all); per block. The target, a heap arena at least 5x cheaper than
 *       {@code Arena.ofConfined()} per block, is this pair. With {@code -p heapLive=1000000} the heap also holds a
 *       million live 64-byte blocks of its own, made at setup: an arena's life must not cost more for it.</li>
 *   <li>{@code heapArenaBlock}: one block from a long-lived heap arena, written, freed early with
 *       {@code heap.free(segment)}, which a JDK arena cannot do; against {@code jdkArenaBlock}: what a plain FFM
 *       user does instead to free one block, an {@code Arena.ofConfined()} per block ({@code allocate}, write,
 *       {@code close}). A stricter pair: the JDK's side is then one arena's whole life.</li>
 *   <li>{@code heapSegmentBlock}: a baseline, the same block as a plain heap segment ({@code heap.allocate},
 *       write, {@code heap.free(segment)}), to show what the arena adds.</li>
 * </ul>
 *
 * <p>Every block is written through its segment, the same code for both ({@code write}): its first and last 8 bytes
 * ({@code ends}, as larson does: what the allocators cost shows), or all of it ({@code whole}: at 1 KiB the write,
 * the same for both, is most of the heap arena's time). The JDK's arenas also zero every block they allocate; the
 * heap arena does not (malloc's contract).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {BenchFlags.NATIVE_ACCESS, BenchFlags.XMS, BenchFlags.XMX, BenchFlags.PRETOUCH})
public class ArenaBenchmark {
    private static final int BLOCKS = 10_000;
    private static final byte PATTERN = (byte) 0x5A;
    private static final long LONG_PATTERN = 0x5A5A_5A5A_5A5A_5A5AL;

    /** Block size in bytes. */
    @Param({"64", "1024"})
    public long size;

    /** How each block is written: {@code ends} (its first and last 8 bytes) or {@code whole} (a fill). */
    @Param({"ends", "whole"})
    public String write;

    /**
     * Live 64-byte blocks the heap holds besides the arena's, allocated at setup and freed at teardown: the cost of
     * an arena (allocation, and closing with 10,000 blocks) is meant to follow its own blocks, not the heap's.
     */
    @Param({"0"})
    public int heapLive;

    private boolean whole;
    private long[] others;

    private Heap heap;
    private Arena heapArena;

    /** Runs on the benchmark thread (a thread-scoped state), which then owns the confined heap arena. */
    @Setup(Level.Trial)
    public void setUp() {
        whole = switch (write) {
            case "ends" -> false;
            case "whole" -> true;
            default -> throw new IllegalArgumentException("write must be ends or whole: " + write);
        };
        if (heapLive < 0) throw new IllegalArgumentException("heapLive must be 0 or more: " + heapLive);
        heap = Heap.create();
        others = new long[heapLive];
        for (int i = 0; i < heapLive; i++) others[i] = heap.malloc(64);
        heapArena = heap.newArena();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        heapArena.close();
        for (long p : others) heap.free(p);
        heap.close();
    }

    private void write(MemorySegment s) {
        if (whole) {
            s.fill(PATTERN);
        } else {
            s.set(JAVA_LONG_UNALIGNED, 0, LONG_PATTERN);
            s.set(JAVA_LONG_UNALIGNED, size - 8, LONG_PATTERN);
        }
    }

    /** One block of a heap arena, written, freed early. */
    @Benchmark
    public long heapArenaBlock() {
        MemorySegment s = heapArena.allocate(size, 16);
        write(s);
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
        write(s);
        heap.free(s);
        return s.address();
    }

    /** One confined JDK arena per block: allocate, write, close. */
    @Benchmark
    public long jdkArenaBlock() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(size, 16);
            write(s);
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
                write(s);
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
                write(s);
                sum += s.address();
            }
        }
        return sum;
    }
}
