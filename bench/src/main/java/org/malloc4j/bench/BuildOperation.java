package org.malloc4j.bench;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;
import org.malloc4j.Heap;
import org.malloc4j.HeapMode;

/**
 * The operations {@link BuildsInTurn} times, written against the core's public API alone: {@code BuildsInTurn} loads
 * this class once per build under test, in a class loader of that build's core, so that each copy links to, and C2
 * compiles, that build's heap. Nothing here names another class of the bench module.
 */
public final class BuildOperation {
    /** Every address, as one segment. */
    @SuppressWarnings("restricted")
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    /** Read once an operation, as JMH's loop reads its stop flag; never set. */
    private static volatile boolean stop;

    private final Heap heap;
    private final long size;
    /** Larson: the slots' blocks (cycles: a batch's blocks), and the precomputed operations (slot above, size below {@link #SIZE_BITS}). */
    private final long[] slots;
    private final int[] ops;
    private int next;

    private static final int SIZE_BITS = 11;
    /** {@link LarsonBenchmark#SEED}, copied: this class links to no other class of the bench module. */
    private static final long SEED = 0x6c6172736f6e4aL;

    /** @param larsonSlots larson's slots, 0 for pairs and cycles (then {@code slots} holds a cycle's blocks) */
    private BuildOperation(Heap heap, long size, int slots, int larsonSlots) {
        this.heap = heap;
        this.size = size;
        this.slots = new long[slots];
        this.ops = new int[larsonSlots == 0 ? 0 : 1 << 16];
        SplittableRandom random = new SplittableRandom(SEED);
        for (int i = 0; i < ops.length; i++) {
            ops[i] = random.nextInt(slots) << SIZE_BITS | random.nextInt(16, 1025);
        }
    }

    /** {@code fast}, {@code checked} or {@code sites}: a new heap of that mode. */
    private static Heap heap(String mode) {
        Heap.Builder b = Heap.builder().jmx(false);
        switch (mode) {
            case "fast" -> { }
            case "checked" -> b.mode(HeapMode.CHECKED);
            case "sites" -> b.trackSites(0.001);
            default -> throw new IllegalArgumentException("mode must be fast, checked or sites: " + mode);
        }
        return b.build();
    }

    /**
     * @param mode {@code fast}, {@code checked} (CHECKED mode) or {@code sites} (FAST with sites sampled at 1/1000)
     * @param size the pair's block size
     * @param slots larson's slots, or 0 for pairs and cycles
     * @return the operation's state on a new heap of this build
     */
    public static Object open(String mode, long size, int slots) {
        return slots == 0 ? new BuildOperation(heap(mode), size, CYCLE, 0)
                : new BuildOperation(heap(mode), size, slots, slots);
    }

    /** {@code n} malloc/free pairs, each writing its whole block, as {@link PairBenchmark} does. */
    public static long pairs(Object state, int n) {
        BuildOperation s = (BuildOperation) state;
        Heap h = s.heap;
        long size = s.size, sum = 0;
        for (int i = 0; i < n && !stop; i++) {
            long a = h.malloc(size);
            ALL.asSlice(a, size).fill((byte) 0x5A);
            h.free(a);
            sum += a;
        }
        return sum;
    }

    /** Blocks a {@link #cycles} batch holds at once: {@code FragmentationDemo}'s batch of timed probes. */
    private static final int CYCLE = 16;

    /**
     * {@code n} mallocs of the state's size in batches of {@value #CYCLE}, each batch freed newest first (each block's
     * first 8 bytes written), as the CLI's fragmentation demo times its probes: a program that keeps a few blocks of one
     * size and gives them back together, so that at a medium size each free can empty a slab.
     */
    public static long cycles(Object state, int n) {
        BuildOperation s = (BuildOperation) state;
        Heap h = s.heap;
        long size = s.size, sum = 0;
        long[] held = s.slots;
        for (int i = 0; i < n && !stop; i += CYCLE) {
            for (int k = 0; k < CYCLE; k++) {
                long a = h.malloc(size);
                ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, a, a);
                held[k] = a;
            }
            for (int k = CYCLE - 1; k >= 0; k--) {
                sum += held[k];
                h.free(held[k]);
            }
        }
        return sum;
    }

    /**
     * {@code n} larson operations, as {@link LarsonBenchmark}'s: free the block of a random slot, allocate one of a
     * random size (16 to 1024 bytes) into it, write its first and last 8 bytes.
     */
    public static long larson(Object state, int n) {
        BuildOperation s = (BuildOperation) state;
        Heap h = s.heap;
        long[] b = s.slots;
        int[] o = s.ops;
        int i = s.next;
        long sum = 0;
        for (int k = 0; k < n && !stop; k++) {
            int op = o[i++ & (o.length - 1)];
            int slot = op >>> SIZE_BITS, size = op & ((1 << SIZE_BITS) - 1);
            long old = b[slot];
            if (old != 0) h.free(old);
            long a = h.malloc(size);
            ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, a, a);
            ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, a + size - 8, a);
            b[slot] = a;
            sum += a;
        }
        s.next = i;
        return sum;
    }

    /**
     * @return a producer and a consumer thread on a new heap of this build, started and parked: {@link #exchange} runs
     *         them, {@link XmallocBenchmark}'s operation (batches of {@value XPair#BATCH} blocks of 16 to 512 bytes,
     *         each written whole, handed over through a ring of {@value XPair#RING} batches and freed by the other)
     */
    public static Object openExchange(String mode) {
        return new XPair(heap(mode));
    }

    /** Runs the pair for about {@code millis} ms; returns the blocks the consumer freed a microsecond, times 1000. */
    public static long exchange(Object state, int millis) {
        return ((XPair) state).run(millis);
    }

    /** One producer/consumer pair and its ring; the threads live from round to round, parked between runs. */
    private static final class XPair {
        static final int BATCH = 100, RING = 16, SIZES = 1 << 12;
        private static final VarHandle HEAD, TAIL, STOPPED;

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                HEAD = l.findVarHandle(XPair.class, "head", long.class);
                TAIL = l.findVarHandle(XPair.class, "tail", long.class);
                STOPPED = l.findVarHandle(XPair.class, "stopped", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final Heap heap;
        final long[] blocks = new long[RING * BATCH];
        final int[] sizes = new int[SIZES];
        final Thread producer, consumer;
        volatile boolean running;
        volatile long freed;
        @SuppressWarnings("unused") // through HEAD, TAIL, STOPPED
        private long p0, p1, p2, p3, p4, p5, p6, head, q0, q1, q2, q3, q4, q5, q6, tail, r0, r1, r2, r3, r4, r5, r6;
        @SuppressWarnings("unused")
        private int stopped;

        XPair(Heap heap) {
            this.heap = heap;
            SplittableRandom random = new SplittableRandom(SEED);
            for (int i = 0; i < SIZES; i++) sizes[i] = random.nextInt(16, 513);
            producer = Thread.ofPlatform().daemon().name("exchange-producer").start(this::produce);
            consumer = Thread.ofPlatform().daemon().name("exchange-consumer").start(this::consume);
        }

        long run(int millis) {
            STOPPED.setVolatile(this, 0);
            long before = freed;
            running = true;
            long t0 = System.nanoTime();
            LockSupport.unpark(producer);
            LockSupport.unpark(consumer);
            LockSupport.parkNanos(millis * 1_000_000L);
            running = false;
            while ((int) STOPPED.getVolatile(this) < 2) Thread.onSpinWait();
            long elapsed = System.nanoTime() - t0;
            return (freed - before) * 1_000_000L / Math.max(1, elapsed);
        }

        /** Parks until a run starts (the threads are daemons: they end with the JVM). */
        private void awaitRun() {
            while (!running) LockSupport.park(this);
        }

        private void produce() {
            long h = 0;
            int next = 0;
            while (true) {
                awaitRun();
                while (running) {
                    if (h - (long) TAIL.getAcquire(this) >= RING) {
                        Thread.onSpinWait();
                        continue;
                    }
                    int base = (int) (h & (RING - 1)) * BATCH;
                    for (int k = 0; k < BATCH; k++) {
                        int size = sizes[next++ & (SIZES - 1)];
                        long a = heap.malloc(size);
                        ALL.asSlice(a, size).fill((byte) 0x5A);
                        blocks[base + k] = a;
                    }
                    HEAD.setRelease(this, ++h);
                }
                STOPPED.getAndAdd(this, 1);
            }
        }

        private void consume() {
            long t = 0, count = 0;
            while (true) {
                awaitRun();
                while (running) {
                    if (t >= (long) HEAD.getAcquire(this)) {
                        Thread.onSpinWait();
                        continue;
                    }
                    int base = (int) (t & (RING - 1)) * BATCH;
                    for (int k = 0; k < BATCH; k++) heap.free(blocks[base + k]);
                    TAIL.setRelease(this, ++t);
                    count += BATCH;
                }
                freed = count;
                STOPPED.getAndAdd(this, 1);
            }
        }
    }
}
