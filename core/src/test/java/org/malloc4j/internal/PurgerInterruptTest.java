package org.malloc4j.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.malloc4j.Internals.await;
import static org.malloc4j.Internals.field;

import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.malloc4j.Heap;

/**
 * An interrupt of the purger thread (a framework that interrupts every thread of the process at shutdown, say) left
 * its status set for good: {@code LockSupport.parkNanos} returns at once while it is set, so the thread looked at every
 * heap, taking their page locks, in a loop with no pause, one core busy for the rest of the process.
 */
class PurgerInterruptTest {
    @Test
    void anInterruptedPurgerParksAgain() throws Exception {
        try (Heap heap = Heap.builder().jmx(false).build()) { // the purger runs from the first heap on
            Thread purger = (Thread) field(null, Purger.class, "thread");
            assertThat(purger).isNotNull();
            purger.interrupt();
            // Bounded wait for the thread's next pass: parked on its own blocker again, the status taken off
            boolean parked = await(() -> !purger.isInterrupted() && purger.getState() == Thread.State.TIMED_WAITING
                    && LockSupport.getBlocker(purger) instanceof Purger);
            assertThat(parked).as("purger parked again after an interrupt (interrupted: %s, state: %s)",
                    purger.isInterrupted(), purger.getState()).isTrue();
        }
    }
}
