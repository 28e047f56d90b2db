package org.malloc4j.cli.replay;

import static org.malloc4j.cli.replay.AddressSpace.ALL;
import static org.malloc4j.cli.replay.AddressSpace.LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The content the checked pass writes into each block, derived from the block's id: a tag (the id with a
 * marker) in the first 8 bytes, another in the last 8, and a per-id byte everywhere else. A block smaller than 16
 * bytes has the first tag only (8 to 15 bytes) or the byte only (below 8).
 *
 * <p>Filling and checking use bulk copies and {@code MemorySegment.mismatch} against a reference page of each
 * byte value (256 pages, 1 MiB, allocated once), so that no object is created per block.
 */
final class BlockPattern {
    private static final int CHUNK = 4096;
    private static final long MARKER = 0x6D34_0000_0000_0000L;

    private final MemorySegment reference;

    BlockPattern() {
        reference = Arena.global().allocate(256L * CHUNK, 64);
        for (int b = 0; b < 256; b++) reference.asSlice((long) b * CHUNK, CHUNK).fill((byte) b);
    }

    /** @return the byte that fills block {@code id}: never 0, so that fresh zeroed memory never passes */
    static byte fillByte(int id) {
        int b = (int) ((id * 0x9E37_79B9_7F4A_7C15L) >>> 56);
        return (byte) (b == 0 ? 0x5A : b);
    }

    /** @return the tag at both ends of block {@code id} */
    static long tag(int id) {
        return MARKER | (id & 0xFFFF_FFFFL);
    }

    /** Writes block {@code id}'s pattern over its {@code size} bytes at {@code address}. */
    void fill(int id, long address, long size) {
        long ref = (fillByte(id) & 0xFFL) * CHUNK;
        for (long off = 0; off < size; off += CHUNK) {
            MemorySegment.copy(reference, ref, ALL, address + off, Math.min(CHUNK, size - off));
        }
        if (size >= 8) ALL.set(LONG, address, tag(id));
        if (size >= 16) ALL.set(LONG, address + size - 8, tag(id));
    }

    /**
     * Checks the first {@code checked} bytes at {@code address} against the pattern of a block of
     * {@code patternSize} bytes (those can differ after a realloc: only the kept prefix is checked).
     *
     * @return the offset of the first byte that differs, or -1 when all match
     */
    long firstMismatch(int id, long address, long patternSize, long checked) {
        long fillFrom = patternSize >= 8 ? 8 : 0;
        long fillTo = patternSize >= 16 ? patternSize - 8 : patternSize;
        if (fillFrom > 0) {
            long m = tagMismatch(id, address, 0, checked);
            if (m >= 0) return m;
        }
        long ref = (fillByte(id) & 0xFFL) * CHUNK;
        long to = Math.min(fillTo, checked);
        for (long off = fillFrom; off < to; off += CHUNK) {
            long n = Math.min(CHUNK, to - off);
            // The static form takes offsets: no slice objects (the instance form on slices made two per chunk, 65 MB
            // of garbage over realloc-growth's checked pass, whose new Eden pages counted in its peak RSS).
            long m = MemorySegment.mismatch(ALL, address + off, address + off + n, reference, ref, ref + n);
            if (m >= 0) return off + m;
        }
        if (fillTo < patternSize) return tagMismatch(id, address, fillTo, checked);
        return -1;
    }

    /** Checks the tag at {@code at}, as far as it lies below {@code checked}. */
    private static long tagMismatch(int id, long address, long at, long checked) {
        long t = tag(id);
        if (at + 8 <= checked && ALL.get(LONG, address + at) == t) return -1;
        for (int k = 0; k < 8 && at + k < checked; k++) {
            if (ALL.get(ValueLayout.JAVA_BYTE, address + at + k) != (byte) (t >>> (8 * k))) return at + k;
        }
        return -1;
    }

    /** @return the byte the pattern of a {@code patternSize}-byte block {@code id} has at {@code offset} */
    static byte expected(int id, long patternSize, long offset) {
        boolean inTag = (patternSize >= 8 && offset < 8) || (patternSize >= 16 && offset >= patternSize - 8);
        if (!inTag) return fillByte(id);
        long k = offset < 8 ? offset : offset - (patternSize - 8);
        return (byte) (tag(id) >>> (8 * k));
    }
}
