package org.malloc4j.bench;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
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
    /** Larson: the slots' blocks, and the precomputed operations (slot above, size below {@link #SIZE_BITS}). */
    private final long[] slots;
    private final int[] ops;
    private int next;

    private static final int SIZE_BITS = 11;
    /** {@link LarsonBenchmark#SEED}, copied: this class links to no other class of the bench module. */
    private static final long SEED = 0x6c6172736f6e4aL;

    private BuildOperation(Heap heap, long size, int slots) {
        this.heap = heap;
        this.size = size;
        this.slots = new long[slots];
        this.ops = new int[slots == 0 ? 0 : 1 << 16];
        SplittableRandom random = new SplittableRandom(SEED);
        for (int i = 0; i < ops.length; i++) {
            ops[i] = random.nextInt(slots) << SIZE_BITS | random.nextInt(16, 1025);
        }
    }

    /**
     * @param mode {@code fast}, {@code checked} (CHECKED mode) or {@code sites} (FAST with sites sampled at 1/1000)
     * @param size the pair's block size
     * @param slots larson's slots, or 0 for pairs
     * @return the operation's state on a new heap of this build
     */
    public static Object open(String mode, long size, int slots) {
        Heap.Builder b = Heap.builder().jmx(false);
        switch (mode) {
            case "fast" -> { }
            case "checked" -> b.mode(HeapMode.CHECKED);
            case "sites" -> b.trackSites(0.001);
            default -> throw new IllegalArgumentException("mode must be fast, checked or sites: " + mode);
        }
        return new BuildOperation(b.build(), size, slots);
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
}
