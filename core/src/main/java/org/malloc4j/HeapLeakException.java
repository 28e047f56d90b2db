package org.malloc4j;

/**
 * Thrown by {@link Heap#close()} on a heap built with {@link Heap.Builder#failOnLeak(boolean) failOnLeak(true)}
 * that still holds live blocks: a leak fails the test that caused it. The heap is closed all the same (its memory
 * has gone back to the OS); the report says which blocks were live and, where recorded, where they were allocated.
 */
public final class HeapLeakException extends IllegalStateException {
    /** The serialization version. */
    private static final long serialVersionUID = 1L;
    /** What was live. */
    private final transient LeakReport report;

    /**
     * Creates the exception.
     *
     * @param report the blocks still live when the heap was closed
     */
    public HeapLeakException(LeakReport report) {
        super("leak: " + report);
        this.report = report;
    }

    /** {@return the blocks still live when the heap was closed} */
    public LeakReport report() {
        return report;
    }
}
