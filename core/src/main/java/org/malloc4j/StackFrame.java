package org.malloc4j;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

/**
 * A frame of a {@link HeapStack}: a bump allocator over the free part of the stack, freed in one step by
 * {@link #close()}. As a {@link SegmentAllocator} it works wherever the FFM API takes one: {@code allocateFrom},
 * the layouts' {@code allocate}, and downcalls that return a struct by value.
 *
 * <p><b>Lifetime.</b> Segments and addresses from a frame are valid until the frame closes. They are in the
 * global scope, as a raw heap block's segment is: the JDK does not stop an access after the frame has closed, which
 * reads or overwrites whatever the stack holds by then. Their contents are not initialized.
 *
 * <p><b>Order.</b> Only the top frame of a stack may allocate or close. Closing a frame that is not the top is a
 * bug: it throws {@link IllegalStateException}, naming both depths, after popping the frame and every frame above
 * it, so that the stack is usable again.
 *
 * <p><b>Threads.</b> A frame belongs to the thread of its stack: calling it from another thread throws
 * {@link WrongThreadException}.
 */
public interface StackFrame extends SegmentAllocator, AutoCloseable {
    /**
     * Allocates {@code byteSize} bytes at the next multiple of {@code byteAlignment} in the stack: O(1).
     *
     * @param byteSize the number of bytes, 0 or more
     * @param byteAlignment the alignment in bytes, a power of two
     * @return a segment of exactly {@code byteSize} bytes, valid until this frame closes, contents undefined
     * @throws IllegalArgumentException if {@code byteSize} is negative or {@code byteAlignment} is not a power of two
     * @throws StackExhaustedException if the stack has not that much room left; the stack is unchanged
     * @throws IllegalStateException if this frame is closed or is not the top frame of its stack
     * @throws WrongThreadException if called from another thread than the stack's
     */
    @Override
    MemorySegment allocate(long byteSize, long byteAlignment);

    /**
     * As {@link #allocate(long, long)}, returning the raw address: no segment object, no bounds checks.
     *
     * @param byteSize the number of bytes, 0 or more
     * @param byteAlignment the alignment in bytes, a power of two
     * @return the address of {@code byteSize} bytes aligned to {@code byteAlignment}, valid until this frame closes
     * @throws IllegalArgumentException if {@code byteSize} is negative or {@code byteAlignment} is not a power of two
     * @throws StackExhaustedException if the stack has not that much room left; the stack is unchanged
     * @throws IllegalStateException if this frame is closed or is not the top frame of its stack
     * @throws WrongThreadException if called from another thread than the stack's
     */
    long allocateAddress(long byteSize, long byteAlignment);

    /** {@return this frame's depth in its stack: 1 for the outermost frame} */
    int depth();

    /**
     * Pops this frame: everything allocated in it is freed in O(1). On a virtual thread, closing the outermost
     * frame gives the stack's block back to the heap's pool.
     *
     * @throws IllegalStateException if the frame is already closed, or if a frame pushed after it is still open
     *         (the message names both depths; this frame and those above it are popped all the same)
     * @throws WrongThreadException if called from another thread than the stack's
     */
    @Override
    void close();
}
