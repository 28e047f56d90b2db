package org.malloc4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;
import org.malloc4j.Heap;
import org.malloc4j.HeapStack;
import org.malloc4j.StackFrame;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One stack frame: push, allocate three small blocks (16, 64 and 256 bytes, 8-byte aligned), write each whole, pop.
 * Single thread; score: ns per frame (lower is better).
 *
 * <ul>
 *   <li>{@code heapStack}: {@code heap.stack().push()} and {@code frame.allocate} (segments);
 *       {@code heapStackAddress}: the same with {@code frame.allocateAddress} (raw addresses).</li>
 *   <li>{@code lwjglMalloc} and {@code lwjglNmalloc}: LWJGL 3.3.6's {@code MemoryStack.stackPush()}, with
 *       {@code malloc} ({@code ByteBuffer}s) and {@code nmalloc} (raw addresses); its default 64 KiB stack, as
 *       malloc4j's.</li>
 *   <li>{@code slicing}: {@code SegmentAllocator.slicingAllocator} over a 64 KiB segment of a confined arena
 *       (allocated once), a new slicing allocator per frame: the JDK's nearest thing to a stack frame.</li>
 * </ul>
 *
 * <p>Every block is written whole by the same code ({@link Blocks#write} at its address). The stack lookups
 * ({@code heap.stack()}, {@code MemoryStack.stackPush()}) are each a {@link ThreadLocal} read, inside the measured
 * code as a program would have them.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {BenchFlags.NATIVE_ACCESS, BenchFlags.UNSAFE_ALLOW, BenchFlags.XMS, BenchFlags.XMX, BenchFlags.PRETOUCH})
public class StackBenchmark {
    private static final long A = 16;
    private static final long B = 64;
    private static final long C = 256;
    private static final long ALIGN = 8;

    private Heap heap;
    private Arena arena;
    private MemorySegment slab;

    @Setup(Level.Trial)
    public void setUp() {
        heap = Heap.create();
        arena = Arena.ofConfined();
        slab = arena.allocate(HeapStack.DEFAULT_SIZE, 16);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
        heap.close();
    }

    @Benchmark
    public long heapStack() {
        try (StackFrame frame = heap.stack().push()) {
            MemorySegment a = frame.allocate(A, ALIGN);
            MemorySegment b = frame.allocate(B, ALIGN);
            MemorySegment c = frame.allocate(C, ALIGN);
            return write(a.address(), b.address(), c.address());
        }
    }

    @Benchmark
    public long heapStackAddress() {
        try (StackFrame frame = heap.stack().push()) {
            long a = frame.allocateAddress(A, ALIGN);
            long b = frame.allocateAddress(B, ALIGN);
            long c = frame.allocateAddress(C, ALIGN);
            return write(a, b, c);
        }
    }

    @Benchmark
    public long lwjglMalloc() {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            ByteBuffer a = stack.malloc((int) ALIGN, (int) A);
            ByteBuffer b = stack.malloc((int) ALIGN, (int) B);
            ByteBuffer c = stack.malloc((int) ALIGN, (int) C);
            return write(MemoryUtil.memAddress(a), MemoryUtil.memAddress(b), MemoryUtil.memAddress(c));
        }
    }

    @Benchmark
    public long lwjglNmalloc() {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            long a = stack.nmalloc((int) ALIGN, (int) A);
            long b = stack.nmalloc((int) ALIGN, (int) B);
            long c = stack.nmalloc((int) ALIGN, (int) C);
            return write(a, b, c);
        }
    }

    @Benchmark
    public long slicing() {
        SegmentAllocator frame = SegmentAllocator.slicingAllocator(slab);
        MemorySegment a = frame.allocate(A, ALIGN);
        MemorySegment b = frame.allocate(B, ALIGN);
        MemorySegment c = frame.allocate(C, ALIGN);
        return write(a.address(), b.address(), c.address());
    }

    private static long write(long a, long b, long c) {
        Blocks.write(a, A);
        Blocks.write(b, B);
        Blocks.write(c, C);
        return a + b + c;
    }
}
