package org.malloc4j.internal.small;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * The lock of a cache shared by virtual threads ({@link LocalHeap#shared}), taken around every malloc and free a
 * virtual thread makes. Uncontended it is one compare-and-set to take and one release store to give back, where a
 * {@code ReentrantLock} gives back with a volatile store (a full fence on x86) and a read of its wait queue: the two
 * locks of a virtual thread's malloc and free cost it more than the cache's own work.
 *
 * <p>Reentrant (the holder may take it again). A thread that finds it taken spins briefly (the holder is inside a
 * fast path of a few nanoseconds, or a slow path that may take the page layer's lock), then yields (a virtual thread
 * yields its carrier to others), then parks for growing times up to {@value #MAX_PARK_NANOS} ns and retries: no
 * queue, so giving the lock back never has to wake anyone, and a waiter is never lost, at the price of fairness under
 * heavy contention, which the striping keeps rare. Never {@code synchronized}: that would pin a virtual thread's
 * carrier.
 */
public final class StripeLock {
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(StripeLock.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Spins before the first yield, and yields before the first park. */
    private static final int SPINS = 64, YIELDS = 64;
    /** The longest park between two tries. */
    static final long MAX_PARK_NANOS = 100_000;

    /** 1 while held. */
    private volatile int state;
    /** The holder, for reentry; written and cleared by the holder only. */
    private Thread owner;
    /** Holds by the holder (reentry); the holder's only. */
    private int holds;

    /** Takes the lock, waiting as long as it takes. */
    public void lock() {
        if (STATE.compareAndSet(this, 0, 1)) {
            owner = Thread.currentThread();
            holds = 1;
            return;
        }
        lockContended();
    }

    /** @return whether the lock was taken (or taken again by its holder) without waiting */
    public boolean tryLock() {
        Thread me = Thread.currentThread();
        if (STATE.compareAndSet(this, 0, 1)) {
            owner = me;
            holds = 1;
            return true;
        }
        if (owner == me) {
            holds++;
            return true;
        }
        return false;
    }

    /** Gives the lock back (one level of reentry). The caller must hold it. */
    public void unlock() {
        if (owner != Thread.currentThread()) {
            throw new IllegalMonitorStateException("stripe lock not held by " + Thread.currentThread());
        }
        if (--holds == 0) {
            owner = null;
            STATE.setRelease(this, 0);
        }
    }

    /** @return whether the calling thread holds the lock */
    public boolean isHeldByCurrentThread() {
        return owner == Thread.currentThread();
    }

    private void lockContended() {
        Thread me = Thread.currentThread();
        // Only this thread ever writes itself into owner, and it clears it before giving the lock back: reading
        // itself here means it holds the lock.
        if (owner == me) {
            holds++;
            return;
        }
        long park = 1_000;
        // Waits without reacting to interrupts, as ReentrantLock.lock() does: the status is taken off while it waits
        // and set again once the lock is held. With it set, parkNanos returned at once, and an interrupted virtual
        // thread spun on its carrier without ever unmounting: with every carrier taken by such waiters, the holder
        // (parked on the page lock, a slab refill) never got one back to run on and release the stripe. A review
        // saw that hang in every run (2026-12-07).
        boolean interrupted = false;
        for (int tries = 0; ; tries++) {
            if (state == 0 && STATE.compareAndSet(this, 0, 1)) {
                owner = me;
                holds = 1;
                if (interrupted) me.interrupt();
                return;
            }
            if (tries < SPINS) {
                Thread.onSpinWait();
            } else if (tries < SPINS + YIELDS) {
                Thread.yield();
            } else {
                LockSupport.parkNanos(this, park);
                if (Thread.interrupted()) interrupted = true;
                park = Math.min(MAX_PARK_NANOS, park * 2);
            }
        }
    }
}
