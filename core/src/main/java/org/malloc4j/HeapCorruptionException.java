package org.malloc4j;

/**
 * Thrown by a {@link HeapMode#CHECKED} heap when it finds that the program wrote where it must not: past the end or
 * before the start of a block (a damaged red zone), or into a freed block waiting in quarantine. The heap's own
 * metadata lives outside the blocks, so the heap itself stays intact and remains usable. A damaged block is freed
 * when the heap can still tell that it is live (the message says "the block has been freed"; a block written after
 * free leaves the quarantine for reuse all the same); one whose header and tail are both damaged, or whose header
 * reads freed over a live tail, is left allocated (the message says so), as is a block {@code usableSize} finds
 * damaged. A free that is done but pushed another, damaged block out of the quarantine says so (its message starts
 * "free of 0x... done"). The message names the block, its size, the damage and, when recorded, where the block was
 * allocated and, for a write after free, where it was freed ({@link HeapDamage#freedAt()}).
 */
public final class HeapCorruptionException extends IllegalStateException {
    /** The serialization version. */
    private static final long serialVersionUID = 1L;
    /** What was found. */
    private final transient HeapDamage damage;

    /**
     * Creates the exception.
     *
     * @param damage what was found
     * @param context what the heap was doing when it found it
     */
    public HeapCorruptionException(HeapDamage damage, String context) {
        super(context + ": " + damage);
        this.damage = damage;
    }

    /** {@return what was found} */
    public HeapDamage damage() {
        return damage;
    }
}
