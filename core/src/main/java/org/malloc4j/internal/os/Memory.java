package org.malloc4j.internal.os;

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

    public static void zero(long address, long size) {
        ALL.asSlice(address, size).fill((byte) 0);
    }

    public static void copy(long from, long to, long size) {
        MemorySegment.copy(ALL, from, ALL, to, size);
    }
}
