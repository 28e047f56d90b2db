package org.malloc4j.internal.stack;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.malloc4j.HeapStack;
import org.malloc4j.StackExhaustedException;
import org.malloc4j.StackFrame;
import org.malloc4j.internal.BlockAllocator;

/**
 * One thread's stack: a bump pointer over a heap block, and the frames open on it. The fast paths, push
 * ({@link #push()}), allocate ({@link #bump}) and pop ({@link #pop}), are a few field updates each; the checks that
 * guard them (owner thread, top frame, room left) are one comparison each, and every failure goes to a slow path
 * that says what went wrong.
 *
 * <p>Invariants, all written by the owner thread only:
 * <ul>
 *   <li>{@code base == 0} (no memory) only while {@code depth == 0}; otherwise {@code base <= sp <= limit} and
 *       {@code limit - base == size}.</li>
 *   <li>{@code ids[d]} is the id of the open frame at depth {@code d}, for {@code 1 <= d <= depth}; {@code ids[0]}
 *       is 0; {@code topId == ids[depth]}. Ids are unique (a counter), so {@code frame.id == topId} means "open and
 *       on top", and a closed frame never matches again, even at a depth reused by a later frame.</li>
 *   <li>The frame at depth {@code d} owns {@code [its mark, next frame's mark)}; popping it restores {@code sp} to
 *       its mark.</li>
 * </ul>
 */
public final class ThreadStack implements HeapStack {
    /**
     * All of memory, in the global scope: frame segments are slices of it. Slicing is cheaper than
     * {@code MemorySegment.reinterpret}, which is caller-sensitive (a stack walk each call unless C2 inlines it).
     */
    @SuppressWarnings("restricted")
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private final StackRegistry registry;
    private final BlockAllocator core;
    /** The only thread that may use this stack. */
    final Thread owner;
    /** True on a virtual thread: the block is borrowed for the outermost frame only. */
    final boolean borrows;
    private final long size;

    private long base;
    private long limit;
    private long sp;
    private int depth;
    private long topId;
    private long pushes;
    private long[] ids = new long[8];

    ThreadStack(StackRegistry registry, BlockAllocator core, Thread owner, long size) {
        this.registry = registry;
        this.core = core;
        this.owner = owner;
        this.borrows = owner.isVirtual();
        this.size = size;
    }

    /** @return the registry of the heap this stack belongs to (for tests and diagnostics) */
    public StackRegistry registry() {
        return registry;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public int depth() {
        checkOwner();
        return depth;
    }

    @Override
    public StackFrame push() {
        checkOwner();
        if (base == 0 || core.isClosed()) attach();
        int d = depth + 1;
        long[] open = ids;
        if (d == open.length) ids = open = Arrays.copyOf(open, 2 * d);
        long id = ++pushes;
        open[d] = id;
        Frame frame = new Frame(this, d, id, topId, sp);
        depth = d;
        topId = id;
        return frame;
    }

    /** Allocates in {@code frame}, which must be the top frame; returns the address. */
    long bump(Frame frame, long byteSize, long byteAlignment) {
        if (Thread.currentThread() != owner) throw wrongThread();
        if (frame.id != topId) throw notTop(frame, "allocate");
        if (byteSize < 0 || byteAlignment <= 0 || (byteAlignment & (byteAlignment - 1)) != 0) {
            throw badArguments(byteSize, byteAlignment);
        }
        long start = (sp + byteAlignment - 1) & -byteAlignment; // no overflow: sp < 2^48, alignment <= 2^62
        // A frame open when the heap closed must not hand out memory the heap gave back (a virtual thread's borrowed
        // block is out of the registry's reach when it releases the stacks)
        if (byteSize > limit - start || core.isClosed()) throw cannotAllocate(byteSize, byteAlignment);
        sp = start + byteSize;
        return start;
    }

    /** Allocates in {@code frame} and returns the segment. */
    MemorySegment allocate(Frame frame, long byteSize, long byteAlignment) {
        long address = bump(frame, byteSize, byteAlignment);
        return ALL.asSlice(address, byteSize);
    }

    /** Pops {@code frame}, which must be the top frame. */
    void pop(Frame frame) {
        if (Thread.currentThread() != owner) throw wrongThread();
        if (frame.id != topId) throw popOutOfOrder(frame);
        sp = frame.mark;
        depth = frame.depth - 1;
        topId = frame.parentId;
        if (depth == 0 && borrows) detach();
    }

    /** @return true when {@code frame} is open (on top or below the top) */
    private boolean isOpen(Frame frame) {
        return frame.depth <= depth && ids[frame.depth] == frame.id;
    }

    // ---------------------------------------------------------------- memory

    /** Takes a block (slow path of the first push, or of a push on a virtual thread outside any frame). */
    private void attach() {
        if (core.isClosed()) throw new IllegalStateException("heap " + core.name() + " is closed");
        if (base != 0) return;
        long block = registry.acquire(this);
        base = block + StackRegistry.GUARD; // no frame segment starts at the block (see GUARD)
        limit = base + size;
        sp = base;
    }

    /** Gives the block back (a virtual thread's outermost pop). */
    private void detach() {
        long block = base - StackRegistry.GUARD;
        base = limit = sp = 0;
        registry.release(block);
    }

    /** @return the block this stack holds now, or 0 (read from another thread: a report's racy look) */
    long heldBlock() {
        long b = base;
        return b == 0 ? 0 : b - StackRegistry.GUARD;
    }

    /**
     * Takes the block of a stack whose platform thread has ended, or of every stack when the heap closes; called by
     * the registry, on another thread than the owner's in the first case.
     *
     * @return the block, or 0 when the stack holds none
     */
    long reclaim() {
        long block = base == 0 ? 0 : base - StackRegistry.GUARD;
        base = limit = sp = 0;
        return block;
    }

    // ---------------------------------------------------------------- failures

    private void checkOwner() {
        if (Thread.currentThread() != owner) throw wrongThread();
    }

    private WrongThreadException wrongThread() {
        return new WrongThreadException("the stack of " + owner + " used from " + Thread.currentThread()
                + ": a heap stack and its frames belong to one thread");
    }

    private IllegalStateException notTop(Frame frame, String what) {
        if (!isOpen(frame)) return new IllegalStateException("the frame at depth " + frame.depth + " is closed");
        return new IllegalStateException("the frame at depth " + frame.depth + " cannot " + what
                + " while the frame at depth " + depth + ", pushed after it, is open: only the top frame allocates");
    }

    /** Pops a frame that is not on top (and every frame above it), then reports the bug; or reports a closed one. */
    private IllegalStateException popOutOfOrder(Frame frame) {
        if (!isOpen(frame)) {
            return new IllegalStateException("the frame at depth " + frame.depth + " is already closed (closed "
                    + "twice, or popped with a frame below it that was closed out of order)");
        }
        int top = depth;
        sp = frame.mark;
        depth = frame.depth - 1;
        topId = frame.parentId;
        if (depth == 0 && borrows) detach();
        return new IllegalStateException("the frame at depth " + frame.depth + " was closed while the frame at depth "
                + top + ", pushed after it, is still open: close frames in the reverse order of push() (as "
                + "try-with-resources does); frames " + frame.depth + " to " + top + " are popped");
    }

    private static IllegalArgumentException badArguments(long byteSize, long byteAlignment) {
        if (byteSize < 0) return new IllegalArgumentException("byteSize must be non-negative: " + byteSize);
        return new IllegalArgumentException("byteAlignment must be a power of two: " + byteAlignment);
    }

    /** @return the reason an allocation fails: the heap closed, or the stack has no room */
    private Error cannotAllocate(long byteSize, long byteAlignment) {
        if (core.isClosed()) throw new IllegalStateException("heap " + core.name() + " is closed");
        return exhausted(byteSize, byteAlignment);
    }

    private StackExhaustedException exhausted(long byteSize, long byteAlignment) {
        long used = sp - base;
        return new StackExhaustedException(size, byteSize, "stack of " + size + " bytes (heap " + core.name()
                + ", " + owner + ") cannot allocate " + byteSize + " bytes aligned to " + byteAlignment + ": its "
                + depth + " open frame(s) use " + used + " bytes, " + (size - used) + " are free; allocate large "
                + "or unbounded buffers from the heap, not the stack");
    }

    @Override
    public String toString() {
        return "HeapStack[heap " + core.name() + ", " + owner + ", " + size + " bytes]";
    }
}
