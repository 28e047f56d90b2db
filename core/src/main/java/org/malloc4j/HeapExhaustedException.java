package org.malloc4j;

/**
 * Thrown when a request cannot be met within the heap's limit or what the OS gives, once the heap has taken back the
 * free memory the calling thread can reach ({@link Heap.Builder#limit(long)} says what). The message states the
 * request, the limit (on a heap with no limit set, the reservation: "no limit set, reservation N bytes"), live bytes,
 * free bytes and the largest free block, so that a failure caused by fragmentation can be told from one caused by
 * real exhaustion. The heap stays usable after it. {@link Heap.Builder#build()} throws it too when the OS refuses the
 * heap's reservation of address space (the message quotes {@code mmap}'s error number).
 *
 * <p>It extends {@link OutOfMemoryError}, as {@code Arena.allocate} does when native memory runs out.
 */
public final class HeapExhaustedException extends OutOfMemoryError {
    /** The serialization version. */
    private static final long serialVersionUID = 1L;
    /** The size in bytes that could not be allocated. */
    private final long requested;

    /**
     * Creates the exception.
     *
     * @param requested the size in bytes that could not be allocated
     * @param message the explanation
     */
    public HeapExhaustedException(long requested, String message) {
        super(message);
        this.requested = requested;
    }

    /** {@return the size in bytes that could not be allocated} */
    public long requested() {
        return requested;
    }
}
