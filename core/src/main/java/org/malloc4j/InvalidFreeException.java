package org.malloc4j;

/**
 * Thrown when {@code free}, {@code realloc} or {@code usableSize} is given an address that is not the start of
 * a live block of this heap: never allocated, inside a block, already freed, or owned by another heap.
 * The message names the address and what it is. The heap is left exactly as it was.
 */
public final class InvalidFreeException extends IllegalArgumentException {
    /** The serialization version. */
    private static final long serialVersionUID = 1L;
    /** The rejected address. */
    private final long address;

    /**
     * Creates the exception.
     *
     * @param address the rejected address
     * @param message what the address is, for a person to read
     */
    public InvalidFreeException(long address, String message) {
        super(message);
        this.address = address;
    }

    /** {@return the address that was rejected} */
    public long address() {
        return address;
    }
}
