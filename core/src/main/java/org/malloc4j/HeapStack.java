package org.malloc4j;

/**
 * A thread's stack allocator: a block of the heap handed out in last-in-first-out frames, the heap's counterpart
 * for short-lived scratch memory. Get the calling thread's stack with {@link Heap#stack()} and open a frame with
 * {@link #push()}; everything allocated in the frame is given back, at once and in O(1), when the frame closes:
 *
 * <pre>{@code
 * try (StackFrame frame = heap.stack().push()) {
 *     MemorySegment name = frame.allocateFrom("malloc4j");
 *     long length = (long) strlen.invokeExact(name);
 * }
 * }</pre>
 *
 * <p><b>Memory.</b> A stack is one block of the heap of {@link #DEFAULT_SIZE} bytes and 16 more, taken on the first
 * push: frames use the {@code DEFAULT_SIZE} bytes after the first 16, so no frame segment starts a heap block and
 * {@code heap.free} rejects every one ({@link InvalidFreeException}) instead of freeing the stack under its frames. A
 * platform thread keeps its block for its life; a stack whose thread has ended is reclaimed by a later stack that
 * needs a block (each looks at a few platform threads' stacks, in turn), by {@link Heap#trim()}, or before the heap
 * refuses a page-run request at its limit. A virtual thread borrows a block from a small pool shared by the heap's
 * virtual threads when it pushes its outermost frame and gives it back when that frame closes, so the number of
 * blocks follows the number of threads that are inside a frame at the same time, not the number of virtual threads.
 * A thread that ends inside a frame keeps its block until the heap reclaims it (a platform thread's as above, a
 * virtual thread's when the heap sweeps the stacks of ended threads: now and then as new threads make stacks, by a
 * trim, before a page-run request is refused at the limit, and at close): close every frame.
 *
 * <p><b>Threads.</b> A stack and its frames belong to one thread: calling them from another thread throws
 * {@link WrongThreadException}.
 *
 * <p><b>Cost.</b> {@code push}, each allocation and the pop are O(1): a few field updates, no lock, no system call.
 */
public interface HeapStack {
    /** The size in bytes of every stack of {@link Heap#stack()}: 64 KiB. */
    long DEFAULT_SIZE = 64 * 1024;

    /**
     * Opens a frame on top of this stack. Close it (try-with-resources) before the frame below it.
     *
     * @return the new frame, at depth {@link #depth()} + 1
     * @throws WrongThreadException if called from another thread than the stack's
     * @throws IllegalStateException if the heap is closed
     * @throws HeapExhaustedException if the stack needs a block and the heap cannot give one
     */
    StackFrame push();

    /**
     * Returns the stack's capacity, shared by all its open frames.
     *
     * @return the capacity in bytes
     */
    long size();

    /**
     * Returns how many frames are open on this stack.
     *
     * @return the number of open frames: 0 outside any frame
     * @throws WrongThreadException if called from another thread than the stack's
     */
    int depth();
}
