package org.malloc4j.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One daemon thread per process that gives back the free pages of heaps nobody calls: decay is otherwise driven by
 * the heap's own allocations and frees, so a program that frees a lot and then goes quiet would keep its retained
 * pages forever. The thread sleeps until the earliest queued run of any open heap expires (at most a second, at
 * least 10 ms), then purges what has expired, holding each heap's page lock briefly. It ends when a pass finds no
 * heap open, and the next heap built starts it again: running code of this library's classes, it kept their class
 * loader reachable for good (a web application that closed its heaps when it was undeployed could never be unloaded).
 */
final class Purger implements Runnable {
    private static final long MAX_WAIT = TimeUnit.SECONDS.toNanos(1);
    /** At least this long between looks: under constant churn runs expire all the time, and purging them in batches
     * keeps the thread off the page locks (jemalloc's background threads pace themselves likewise). */
    private static final long MIN_WAIT = TimeUnit.MILLISECONDS.toNanos(10);
    private static volatile Thread thread;
    private static final System.Logger LOG = System.getLogger("org.malloc4j");

    private Purger() {}

    /** Starts the thread if it is not running yet. The caller's heap is among the open heaps already. */
    static void ensureStarted() {
        if (thread != null) return;
        synchronized (Purger.class) { // once per process, never on an allocation path
            if (thread != null) return;
            Thread t = newThread();
            t.start();
            thread = t;
        }
    }

    /**
     * @return the purger thread, not started: a daemon, with no context class loader and no inheritable thread locals
     *     of the thread that built the first heap, which a thread that lives as long as the process would keep
     *     reachable for good (a web application's class loader after it was undeployed, say)
     */
    static Thread newThread() {
        Thread t = Thread.ofPlatform().daemon().name("malloc4j-purger").inheritInheritableThreadLocals(false)
                .unstarted(new Purger());
        t.setContextClassLoader(null);
        return t;
    }

    @Override
    public void run() {
        while (true) {
            if (HeapCore.open().isEmpty() && retired()) return;
            long wait = MAX_WAIT;
            for (HeapCore heap : HeapCore.open()) {
                // One heap's failure must not end the thread that purges every heap's pages; nor may a failed
                // adoption keep the heap's own expired pages committed
                try {
                    heap.reapDeadCaches();
                } catch (RuntimeException | Error e) {
                    report(heap, "adopting the caches of ended threads", e);
                }
                try {
                    long next = heap.purgeExpired();
                    if (next >= 0) wait = Math.min(wait, next);
                } catch (RuntimeException | Error e) {
                    report(heap, "purging", e);
                }
            }
            LockSupport.parkNanos(this, Math.max(wait, MIN_WAIT));
            // Nobody may stop this thread: an interrupt's status, left set, made every park return at once, and the
            // thread looked at every heap in a loop with no pause for the rest of the process
            Thread.interrupted();
        }
    }

    /**
     * @return whether this thread has ended its service: no heap is open. A heap being built adds itself to the open
     *     heaps, then looks at {@link #thread}; this clears {@link #thread}, then looks at the open heaps again. Both
     *     volatile, one of the two sees the other's write: either the new heap is seen here and the thread goes on,
     *     or it finds no thread and starts one (under the class's lock, once this has decided)
     */
    private static boolean retired() {
        synchronized (Purger.class) {
            thread = null;
            if (HeapCore.open().isEmpty()) return true;
            thread = Thread.currentThread();
            return false;
        }
    }

    /**
     * Logs a heap's failure. A report that fails in turn (a logging handler that throws, no Java heap left for the
     * message) is dropped: thrown from here it ended the thread, and no heap was purged again.
     */
    private static void report(HeapCore heap, String what, Throwable e) {
        try {
            LOG.log(System.Logger.Level.WARNING, "malloc4j: " + what + " in heap " + heap.name() + " failed", e);
        } catch (RuntimeException | Error reportFailed) {
            // nothing left to tell it with
        }
    }
}
