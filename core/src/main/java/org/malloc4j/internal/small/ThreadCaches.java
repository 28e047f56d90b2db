package org.malloc4j.internal.small;

import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Maps threads to their {@link LocalHeap} caches, and keeps the list of all caches so that statistics can be
 * summed without stopping anyone. A thread gets its cache on its first allocation.
 */
public final class ThreadCaches {
    private final SlabSource source;
    private final ThreadLocal<LocalHeap> local;
    private final ReentrantLock registryLock = new ReentrantLock();
    private volatile LocalHeap[] all = new LocalHeap[0];
    /**
     * The first thread's cache, checked before the ThreadLocal: two loads instead of a hash probe for the common
     * case of one thread using the heap. Read racily: LocalHeap.thread is final, so a cache seen here is seen
     * whole.
     */
    private LocalHeap primary;

    public ThreadCaches(SlabSource source) {
        this.source = source;
        this.local = ThreadLocal.withInitial(this::register);
    }

    /** @return the calling thread's cache */
    public LocalHeap get() {
        LocalHeap p = primary;
        if (p != null && p.thread == Thread.currentThread()) return p;
        return local.get();
    }

    private LocalHeap register() {
        LocalHeap cache = new LocalHeap(Thread.currentThread(), source);
        registryLock.lock();
        try {
            LocalHeap[] grown = Arrays.copyOf(all, all.length + 1);
            grown[all.length] = cache;
            all = grown; // volatile write publishes the new cache to readers of all()
            if (primary == null) primary = cache;
        } finally {
            registryLock.unlock();
        }
        return cache;
    }

    /** @return every cache created so far (a snapshot; do not modify) */
    public LocalHeap[] all() {
        return all;
    }
}
