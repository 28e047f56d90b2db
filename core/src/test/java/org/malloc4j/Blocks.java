package org.malloc4j;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Test helpers that write and check byte patterns in heap blocks by raw address.
 *
 * <p>A block of up to 4 KiB is written whole. A bigger one is written where bugs show: its first and last
 * 256 bytes, the first 8 bytes of every page, and 16 words spread over it; so a realloc that loses or
 * shifts data, or a calloc that hands out a stale page, is caught without writing every byte of 64 MiB.
 */
final class Blocks {
    /** Every address, as one segment. */
    @SuppressWarnings("restricted")
    static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private static final int WHOLE = 4096;
    private static final int EDGE = 256;
    private static final MemorySegment ZEROS = Arena.global().allocate(256 * 1024, 16);
    private static final MemorySegment[] PATTERNS = new MemorySegment[256];

    static {
        for (int b = 0; b < 256; b++) {
            PATTERNS[b] = Arena.global().allocate(WHOLE, 16).fill((byte) b);
        }
    }

    private Blocks() {}

    /**
     * @return the figures of a stats snapshot that describe blocks and memory (not bookkeeping such as the number
     *         of thread caches), for comparing the state before and after a call that must change nothing
     */
    static List<Long> state(HeapStats s) {
        return List.of(s.liveBytes(), s.peakLiveBytes(), s.committedBytes(), s.peakCommittedBytes(),
                s.reservedBytes(), s.mallocCount(), s.freeCount(), s.freeBytes(), s.largestFreeBlock(),
                s.retainedBytes(), s.purgeCount());
    }

    static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    /** A fill byte derived from an identity (never 0, so that zeroed memory never passes for a pattern). */
    static byte patternOf(long id) {
        long h = id * 0x9E3779B97F4A7C15L;
        int b = (int) (h >>> 56) & 0xff;
        return (byte) (b == 0 ? 0x5a : b);
    }

    @FunctionalInterface
    interface RegionVisitor {
        /** @return a non-negative offset to stop at it (a mismatch), or -1 to go on */
        long visit(long from, long to);
    }

    /** Visits the regions of a block of {@code size} bytes that the helpers write, clipped to {@code limit}. */
    static long regions(long size, long limit, RegionVisitor v) {
        long end = Math.min(size, limit);
        if (end <= 0) return -1;
        if (size <= WHOLE) return v.visit(0, end);
        long r = v.visit(0, Math.min(EDGE, end));
        if (r >= 0) return r;
        if (size - EDGE < end) {
            r = v.visit(size - EDGE, end);
            if (r >= 0) return r;
        }
        for (long page = 4096; page + 8 <= end; page += 4096) {
            r = v.visit(page, page + 8);
            if (r >= 0) return r;
        }
        for (int k = 1; k <= 16; k++) {
            long off = (size * k / 17) & ~7L;
            if (off + 8 <= end) {
                r = v.visit(off, off + 8);
                if (r >= 0) return r;
            }
        }
        return -1;
    }

    /** Writes {@code value} over the regions of the block at {@code address}. */
    static void fill(long address, long size, byte value) {
        regions(size, size, (from, to) -> {
            ALL.asSlice(address + from, to - from).fill(value);
            return -1;
        });
    }

    /** @return the first offset below {@code limit} where the block does not hold {@code value}, or -1 */
    static long firstMismatch(long address, long size, long limit, byte value) {
        MemorySegment pattern = PATTERNS[value & 0xff];
        return regions(size, limit, (from, to) -> {
            for (long at = from; at < to; at += WHOLE) {
                long n = Math.min(WHOLE, to - at);
                long m = ALL.asSlice(address + at, n).mismatch(pattern.asSlice(0, n));
                if (m >= 0) return at + m;
            }
            return -1;
        });
    }

    /** Asserts that the block holds {@code value} in its first {@code limit} bytes (where they were written). */
    static void check(long address, long size, long limit, byte value) {
        check(address, size, 0, limit, value);
    }

    /** Asserts that the block holds {@code value} in bytes {@code [from, limit)} (where they were written). */
    static void check(long address, long size, long from, long limit, byte value) {
        MemorySegment pattern = PATTERNS[value & 0xff];
        long m = regions(size, limit, (start, end) -> {
            for (long at = Math.max(start, from); at < end; at += WHOLE) {
                long n = Math.min(WHOLE, end - at);
                long x = ALL.asSlice(address + at, n).mismatch(pattern.asSlice(0, n));
                if (x >= 0) return at + x;
            }
            return -1;
        });
        if (m >= 0) {
            throw new AssertionError("block " + hex(address) + " of " + size + " bytes: byte " + m + " is "
                    + ALL.get(ValueLayout.JAVA_BYTE, address + m) + ", expected " + value + " (checked up to "
                    + Math.min(size, limit) + ")");
        }
    }

    /**
     * @return the first non-zero offset of the block, or -1. Blocks up to 256 KiB are checked whole, bigger ones
     *         in the regions above (every page included)
     */
    static long firstNonZero(long address, long size) {
        // Compared on slices, not on ALL: the JDK compares a segment longer than 2 GiB byte by byte.
        if (size <= ZEROS.byteSize()) {
            return ALL.asSlice(address, size).mismatch(ZEROS.asSlice(0, size));
        }
        return regions(size, size, (from, to) -> {
            long n = to - from;
            long m = ALL.asSlice(address + from, n).mismatch(ZEROS.asSlice(0, n));
            return m >= 0 ? from + m : -1;
        });
    }

    /** Checks every byte of the block, however big. */
    static void checkAllZero(long address, long size) {
        for (long at = 0; at < size; at += ZEROS.byteSize()) {
            long n = Math.min(ZEROS.byteSize(), size - at);
            long m = ALL.asSlice(address + at, n).mismatch(ZEROS.asSlice(0, n));
            if (m >= 0) {
                throw new AssertionError("calloc block " + hex(address) + " of " + size + " bytes: byte " + (at + m)
                        + " is " + ALL.get(ValueLayout.JAVA_BYTE, address + at + m) + ", not 0");
            }
        }
    }

    static void checkZero(long address, long size) {
        long m = firstNonZero(address, size);
        if (m >= 0) {
            throw new AssertionError("calloc block " + hex(address) + " of " + size + " bytes: byte " + m + " is "
                    + ALL.get(ValueLayout.JAVA_BYTE, address + m) + ", not 0");
        }
    }
}
