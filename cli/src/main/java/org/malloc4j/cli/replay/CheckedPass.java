package org.malloc4j.cli.replay;

import static org.malloc4j.cli.replay.AddressSpace.ALL;

import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.malloc4j.HeapExhaustedException;
import org.malloc4j.anchors.Allocator;
import org.malloc4j.cli.trace.Trace;

/**
 * The checked pass: replays a trace and checks the allocator's every answer. Each block is filled with its
 * {@link BlockPattern}; the pattern is checked before each free, over the kept bytes after each realloc, and for
 * the blocks still live at the end. Each new block is checked for overlap with the live blocks (an
 * {@link AddressTree}) and for alignment. Failures are counted in {@link ReplayErrors}, and the replay goes on.
 *
 * <p>Usage: {@link #run()}, then look at the allocator (its statistics reflect the end of the trace), then
 * {@link #freeRemaining()}.
 */
final class CheckedPass {
    private final Trace trace;
    private final Allocator allocator;
    private final BlockPattern pattern;
    private final ReplayErrors errors;

    /** Address of each live id's block; 0 when the allocator failed to give one. */
    private final long[] address;
    /** Size of each live id's block (as the trace asked); -1 when not live. */
    private final long[] size;
    private final AddressTree tree;
    /** With {@code --leaks}: the index of the op that allocated each live id; else null. */
    private final int[] site;
    /** With {@code --leaks}: the index of the last realloc of each live id, -1 when none; else null. */
    private final int[] resized;

    /** {@code verify}'s {@code from} before a free (no block has address -1 or -2). */
    private static final long BEFORE_FREE = -1;
    /** {@code verify}'s {@code from} for the blocks left at the end. */
    private static final long AT_END = -2;

    CheckedPass(Trace trace, Allocator allocator, BlockPattern pattern, ReplayErrors errors) {
        this(trace, allocator, pattern, errors, false);
    }

    /** @param sites whether to record each block's allocation site, for {@link #leaks} */
    CheckedPass(Trace trace, Allocator allocator, BlockPattern pattern, ReplayErrors errors, boolean sites) {
        this.trace = trace;
        this.allocator = allocator;
        this.pattern = pattern;
        this.errors = errors;
        this.address = new long[trace.idSpan()];
        this.size = new long[trace.idSpan()];
        Arrays.fill(size, -1);
        this.tree = new AddressTree(trace.idSpan());
        this.site = sites ? new int[trace.idSpan()] : null;
        this.resized = sites ? new int[trace.idSpan()] : null;
    }

    void run() {
        for (int i = 0, n = trace.size(); i < n; i++) {
            switch (trace.kind(i)) {
                case Trace.ALLOC -> alloc(i);
                case Trace.FREE -> free(i);
                default -> realloc(i);
            }
        }
    }

    /**
     * @param heapLiveBlocks the allocator's own count of live blocks now, -1 when it does not say
     * @return the blocks live now (call between {@link #run()} and {@link #freeRemaining()}), grouped
     * @throws IllegalStateException if this pass was not asked to record sites
     */
    LeakReport leaks(long heapLiveBlocks) {
        if (site == null) throw new IllegalStateException("allocation sites were not recorded");
        return LeakReport.of(trace, size, site, resized, heapLiveBlocks);
    }

    /** Checks and frees the blocks the trace leaves live, so that the allocator is empty again. */
    void freeRemaining() {
        for (int id = 0; id < size.length; id++) {
            long s = size[id];
            long p = address[id];
            if (s < 0) continue;
            size[id] = -1;
            address[id] = 0;
            if (p == 0) continue;
            verify(-1, id, p, s, s, AT_END);
            tree.remove(id);
            try {
                allocator.free(p);
            } catch (RuntimeException | HeapExhaustedException e) {
                errors.add(trace.name() + " at the end: free of block " + id + " at " + hex(p) + " threw " + e);
            }
        }
    }

    private void alloc(int i) {
        int id = trace.id(i);
        long s = trace.size(i);
        long p;
        boolean threw = false;
        try {
            p = allocator.malloc(s);
        } catch (RuntimeException | HeapExhaustedException e) {
            error(i, "malloc threw " + e);
            p = 0;
            threw = true;
        }
        size[id] = s;
        address[id] = 0;
        if (site != null) {
            site[id] = i;
            resized[id] = -1;
        }
        if (p == 0) { // C lets malloc(0) return NULL
            if (s > 0 && !threw) error(i, "malloc returned NULL");
            return;
        }
        place(i, id, p, s);
    }

    private void free(int i) {
        int id = trace.id(i);
        long p = address[id];
        long s = size[id];
        size[id] = -1;
        address[id] = 0;
        if (p == 0) return;
        verify(i, id, p, s, s, BEFORE_FREE);
        tree.remove(id);
        try {
            allocator.free(p);
        } catch (RuntimeException | HeapExhaustedException e) {
            error(i, "free of " + hex(p) + " threw " + e);
        }
    }

    private void realloc(int i) {
        int id = trace.id(i);
        long p = address[id];
        long old = size[id];
        long s = trace.size(i);
        if (p == 0) { // the allocator failed this block earlier: realloc(NULL, n) is malloc(n)
            alloc(i);
            return;
        }
        tree.remove(id);
        long q;
        boolean threw = false;
        try {
            q = allocator.realloc(p, s);
        } catch (RuntimeException | HeapExhaustedException e) {
            error(i, "realloc of " + hex(p) + " threw " + e);
            q = 0;
            threw = true;
        }
        if (q == 0) { // C: the old block is left as it was
            if (tree.insert(id, p, Math.max(old, 1)) >= 0) error(i, "the block kept by a failed realloc overlaps");
            if (!threw) error(i, "realloc returned NULL");
            return;
        }
        long kept = Math.min(old, s);
        verify(i, id, q, old, kept, p);
        size[id] = s;
        if (resized != null) resized[id] = i;
        place(i, id, q, s);
    }

    /** Checks a new block's alignment and overlap, then records and fills it. */
    private void place(int i, int id, long p, long s) {
        long align = Math.min(16, Long.highestOneBit(Math.max(s, 1)));
        if ((p & (align - 1)) != 0) {
            error(i, "block " + id + " at " + hex(p) + " is not " + align + "-byte aligned");
        }
        long extent = Math.max(s, 1);
        int other = tree.insert(id, p, extent);
        if (other >= 0) {
            error(i, "block " + id + " [" + hex(p) + ", " + hex(p + extent) + ") overlaps live block " + other + " ["
                    + hex(tree.start(other)) + ", " + hex(tree.end(other)) + ")");
            address[id] = 0; // not ours alone: neither fill it nor free it
            return;
        }
        address[id] = p;
        pattern.fill(id, p, s);
    }

    /**
     * Checks the first {@code checked} bytes of block {@code id} at {@code p} against its pattern for
     * {@code patternSize} bytes; {@code from} says when: {@link #BEFORE_FREE}, {@link #AT_END}, or the address the
     * block had before a realloc. No object is created unless the check fails.
     */
    private void verify(int i, int id, long p, long patternSize, long checked, long from) {
        long off = pattern.firstMismatch(id, p, patternSize, checked);
        if (off < 0) return;
        byte found = ALL.get(ValueLayout.JAVA_BYTE, p + off);
        String when = from == BEFORE_FREE ? "before free" : from == AT_END ? "at the end of the trace"
                : from == p ? "after realloc in place" : "after realloc from " + hex(from);
        String what = "block " + id + " (" + patternSize + " bytes at " + hex(p) + ") differs from its pattern "
                + when + " at byte " + off + ": expected " + byteHex(BlockPattern.expected(id, patternSize, off))
                + ", found " + byteHex(found);
        if (i < 0) errors.add(trace.name() + " at the end: " + what);
        else error(i, what);
    }

    private void error(int i, String what) {
        errors.add(trace.name() + " " + trace.where(i) + " (" + trace.describe(i) + "): " + what);
    }

    private static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    private static String byteHex(byte b) {
        return String.format("0x%02x", b & 0xFF);
    }
}
