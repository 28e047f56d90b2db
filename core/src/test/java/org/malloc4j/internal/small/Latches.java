package org.malloc4j.internal.small;

import java.util.concurrent.CountDownLatch;

/** For test threads that must wait inside a lambda, where {@link InterruptedException} cannot be thrown. */
final class Latches {
    private Latches() {}

    /** Waits for {@code latch}; an interrupt fails the test. */
    static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
