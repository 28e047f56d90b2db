package org.malloc4j.cli.demo;

import java.util.HashMap;
import java.util.Map;

/**
 * A deliberately naive heap, a teaching baseline only: one contiguous range of offsets {@code [0, size)}, a
 * singly linked list of free extents in address order searched first-fit, coalescing on free. It manages offsets
 * only (no memory). Allocation walks the list, so it slows down as holes accumulate, and a request larger than
 * every hole fails even when enough bytes are free in total.
 */
public final class NaiveFirstFitHeap {
    private static final class Extent {
        long offset;
        long bytes;
        Extent next;

        Extent(long offset, long bytes, Extent next) {
            this.offset = offset;
            this.bytes = bytes;
            this.next = next;
        }
    }

    private final long size;
    private Extent free;
    private final Map<Long, Long> live = new HashMap<>();
    private long freeBytes;

    /**
     * @param size the range's bytes
     * @throws IllegalArgumentException if {@code size} is negative
     */
    public NaiveFirstFitHeap(long size) {
        if (size < 0) throw new IllegalArgumentException("size must not be negative: " + size);
        this.size = size;
        this.free = new Extent(0, size, null);
        this.freeBytes = size;
    }

    /**
     * @return the block's offset, or -1 when no free extent is large enough
     * @throws IllegalArgumentException if {@code bytes} is negative (it was served as a request of 0)
     */
    public long malloc(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("bytes must not be negative: " + bytes);
        if (bytes > size) return -1; // no extent holds it, and rounding it up could overflow to a negative size
        long n = (Math.max(1, bytes) + 15) & ~15L;
        Extent prev = null;
        for (Extent e = free; e != null; prev = e, e = e.next) {
            if (e.bytes >= n) {
                long at = e.offset;
                if (e.bytes == n) {
                    if (prev == null) free = e.next; else prev.next = e.next;
                } else {
                    e.offset += n;
                    e.bytes -= n;
                }
                live.put(at, n);
                freeBytes -= n;
                return at;
            }
        }
        return -1;
    }

    /** Frees the block at {@code offset}, merging it with free neighbours. */
    public void free(long offset) {
        Long n = live.remove(offset);
        if (n == null) throw new IllegalArgumentException("not a live block: " + offset);
        freeBytes += n;
        Extent prev = null;
        Extent e = free;
        while (e != null && e.offset < offset) {
            prev = e;
            e = e.next;
        }
        Extent x = new Extent(offset, n, e);
        if (prev == null) free = x; else prev.next = x;
        if (e != null && x.offset + x.bytes == e.offset) {
            x.bytes += e.bytes;
            x.next = e.next;
        }
        if (prev != null && prev.offset + prev.bytes == x.offset) {
            prev.bytes += x.bytes;
            prev.next = x.next;
        }
    }

    /** @return the range's size */
    public long size() {
        return size;
    }

    /** @return free bytes in all extents */
    public long freeBytes() {
        return freeBytes;
    }

    /** @return the largest free extent */
    public long largestFreeExtent() {
        long m = 0;
        for (Extent e = free; e != null; e = e.next) m = Math.max(m, e.bytes);
        return m;
    }

    /**
     * @return the end of the used part of the range: the start of the free extent that reaches the range's end,
     *         or the range's size when its last bytes are allocated
     */
    public long usedRange() {
        Extent last = null;
        for (Extent e = free; e != null; e = e.next) last = e;
        return last != null && last.offset + last.bytes == size ? last.offset : size;
    }

    /** @return free bytes below {@link #usedRange()}: the holes between allocated blocks */
    public long holeBytes() {
        return freeBytes - (size - usedRange());
    }

    /** @return the number of free extents */
    public int freeExtents() {
        int c = 0;
        for (Extent e = free; e != null; e = e.next) c++;
        return c;
    }
}
