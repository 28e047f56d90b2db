package org.malloc4j.internal.os;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Raw access to native memory by address, through one segment that spans the whole address space.
 * C2 compiles accesses through it to plain loads and stores (the bounds check against
 * {@code Long.MAX_VALUE} folds away), which is what the heap's metadata and zeroing need.
 */
public final class Memory {
    /** Every address, as one segment in the global scope. */
    public static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private Memory() {}

    public static long getLong(long address) {
        return ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, address);
    }

    public static void putLong(long address, long value) {
        ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, address, value);
    }

    public static int getInt(long address) {
        return ALL.get(ValueLayout.JAVA_INT_UNALIGNED, address);
    }

    public static void putInt(long address, int value) {
        ALL.set(ValueLayout.JAVA_INT_UNALIGNED, address, value);
    }

    /** Fills {@code size} bytes at {@code address} with zeros. */
    public static void zero(long address, long size) {
        fill(address, size, (byte) 0, ZEROS);
    }

    /**
     * Fills {@code size} bytes at {@code address} with {@code value}: by {@link MemorySegment#fill} below
     * {@link #COPY_FROM} bytes, by copying {@code template} (a {@link #template} of {@code value}) from it.
     */
    public static void fill(long address, long size, byte value, MemorySegment template) {
        if (size < COPY_FROM) ALL.asSlice(address, size).fill(value);
        else fillFrom(template, address, size);
    }

    /**
     * From this size up a fill copies a template ({@link #fillFrom}) where below it {@link MemorySegment#fill} is the
     * faster: fill calls {@code Unsafe.setMemory} above a few dozen bytes, which on JDK 25 stores 4 KiB in 70-80 ns
     * where the copy stub takes 27-46 ns (1 MiB: 18-19 us against 10-12 us).
     */
    static final long COPY_FROM = 512;

    /** A template of zeros for {@link #zero}. */
    private static final MemorySegment ZEROS = template((byte) 0);

    /**
     * @return a segment of 16 KiB holding {@code value} in every byte, for {@link #fillFrom}; it lives as long as the
     *         process
     */
    public static MemorySegment template(byte value) {
        return Arena.global().allocate(16 << 10, 64).fill(value);
    }

    /**
     * Fills {@code size} bytes at {@code address} with the byte that fills {@code template}, by copying the template
     * over them. A copy, not a loop of stores: a loop that C2 vectorizes is faster still (4 KiB in 22-25 ns), but not
     * always vectorized: inlined with the poison check's loop into a CHECKED malloc/free pair, it ran scalar in three
     * JMH forks of four (1 MiB pairs at 390 us instead of 57 us), where the copy is one stub call wherever it is.
     */
    public static void fillFrom(MemorySegment template, long address, long size) {
        long t = template.address(), n = template.byteSize();
        for (long off = 0; off < size; off += n) MemorySegment.copy(ALL, t, ALL, address + off, Math.min(n, size - off));
    }

    /**
     * @return true when each of the {@code bytes / 8} words at {@code address} equals {@code word} ({@code bytes} a
     *         multiple of 8, 512 at least); one pass with no early exit, which C2 vectorizes (4 KiB in 34 ns, where
     *         {@link MemorySegment#mismatch} against a template takes 90-100 ns). The one such loop on the CHECKED
     *         paths: with a second (the fills' store loop, see {@link #fillFrom}) both were inlined into the pair's
     *         compilation and ran scalar until C2 compiled it again without one of them ({@code -XX:+PrintInlining})
     */
    public static boolean wordsEqual(long address, long bytes, long word) {
        MemorySegment block = ALL.asSlice(address, bytes);
        long diff = 0;
        for (long off = 0; off < bytes; off += 8) diff |= block.get(ValueLayout.JAVA_LONG_UNALIGNED, off) ^ word;
        return diff == 0;
    }

    public static void copy(long from, long to, long size) {
        MemorySegment.copy(ALL, from, ALL, to, size);
    }
}
