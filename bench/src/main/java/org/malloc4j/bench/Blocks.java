package org.malloc4j.bench;

import java.lang.foreign.MemorySegment;

/**
 * The write every benchmark does to every block it gets, identical for every allocator: the block is addressed by
 * its raw address through one segment that spans the whole address space, sliced to the block and filled.
 * {@code fill} is an intrinsic (a few stores for small blocks, {@code memset}-like for large ones) and the slice is
 * scalar-replaced by C2, so the write itself makes no Java garbage (check with {@code -prof gc}).
 */
public final class Blocks {
    /** Every address, for raw-address access; needs native access (it is a restricted method). */
    @SuppressWarnings("restricted")
    static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private static final byte PATTERN = (byte) 0x5A;

    private Blocks() {}

    /** Writes every byte of the block at {@code address} of {@code size} bytes. */
    public static void write(long address, long size) {
        ALL.asSlice(address, size).fill(PATTERN);
    }
}
