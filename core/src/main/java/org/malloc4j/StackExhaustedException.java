package org.malloc4j;

/**
 * Thrown when a {@link StackFrame} is asked for more than its stack has left. The message names the stack's size,
 * the request and its alignment, and how much the open frames use. The stack is left as it was.
 *
 * <p>It extends {@link OutOfMemoryError}, as {@link HeapExhaustedException} does and as LWJGL's {@code MemoryStack}
 * does when it overflows: the request could not be met with the memory there is. It differs from heap exhaustion in
 * that it is deterministic (the stack has a fixed size), so the cure is in the program: allocate large or unbounded
 * buffers from the heap, not from the stack.
 */
public final class StackExhaustedException extends OutOfMemoryError {
    /** The serialization version. */
    private static final long serialVersionUID = 1L;
    /** The stack's capacity in bytes. */
    private final long stackSize;
    /** The size in bytes that could not be allocated. */
    private final long requested;

    /**
     * Creates the exception.
     *
     * @param stackSize the stack's capacity in bytes
     * @param requested the size in bytes that could not be allocated
     * @param message the explanation
     */
    public StackExhaustedException(long stackSize, long requested, String message) {
        super(message);
        this.stackSize = stackSize;
        this.requested = requested;
    }

    /** {@return the stack's capacity in bytes} */
    public long stackSize() {
        return stackSize;
    }

    /** {@return the size in bytes that could not be allocated} */
    public long requested() {
        return requested;
    }
}
