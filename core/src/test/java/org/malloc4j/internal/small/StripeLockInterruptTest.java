package org.malloc4j.internal.small;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicBoolean;
import org.malloc4j.Internals;
import org.junit.jupiter.api.Test;

/** A virtual thread interrupted while it waits for a stripe's lock waits on (as ReentrantLock.lock()), then keeps it. */
class StripeLockInterruptTest {
    @Test
    void anInterruptedWaiterTakesTheLockOnceFreeAndKeepsItsInterrupt() throws Exception {
        StripeLock lock = new StripeLock();
        AtomicBoolean took = new AtomicBoolean(), interrupted = new AtomicBoolean();
        lock.lock();
        Thread waiter = Thread.ofVirtual().start(() -> {
            lock.lock();
            try {
                took.set(true);
                interrupted.set(Thread.currentThread().isInterrupted());
            } finally {
                lock.unlock();
            }
        });
        // Parked between tries (past its spins and yields), then interrupted while it waits
        assertThat(Internals.await(() -> waiter.getState() == Thread.State.TIMED_WAITING)).isTrue();
        waiter.interrupt();
        assertThat(took).isFalse(); // still ours
        lock.unlock();
        waiter.join(20_000);
        assertThat(waiter.isAlive()).as("the waiter took the lock").isFalse();
        assertThat(took).isTrue();
        assertThat(interrupted).as("its interrupt status, kept").isTrue();
        assertThat(lock.tryLock()).as("given back").isTrue();
    }
}
