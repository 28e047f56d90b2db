package org.malloc4j.internal.checked;

import java.util.concurrent.locks.ReentrantLock;
import org.malloc4j.HeapDamage;

/**
 * Freed blocks waiting before their memory is reused, first in first out, bounded in bytes: while a block waits,
 * its poison shows any write through a dangling pointer. Striped by thread so that threads freeing at once rarely
 * meet on a lock (a {@link ReentrantLock}, never {@code synchronized}: it must not pin virtual threads).
 */
final class Quarantine {
    private final Stripe[] stripes;
    private final long stripeBytes;

    Quarantine(long capacityBytes) {
        int n = Integer.highestOneBit(Math.max(1, Runtime.getRuntime().availableProcessors()) * 2 - 1) << 1;
        this.stripes = new Stripe[n];
        for (int i = 0; i < n; i++) stripes[i] = new Stripe();
        this.stripeBytes = Math.max(1, capacityBytes / n);
    }

    /** @return the most bytes one block may have to enter quarantine (bigger ones are released at once) */
    long maxBlock() {
        return stripeBytes;
    }

    /** What leaves the quarantine: checked, then given back to the engine. */
    interface Evictor {
        /** Releases the block at {@code p}; returns what was found damaged in it, or null. */
        HeapDamage evict(long p);
    }

    /**
     * Adds the freed block at {@code p} of {@code size} bytes and evicts the oldest blocks while the stripe holds too
     * many bytes. Evicting under the stripe's lock keeps this path free of Java garbage; the engine never calls
     * back into the quarantine, so there is no lock cycle.
     *
     * @return the first damage found in an evicted block, or null
     */
    HeapDamage add(long p, long size, Evictor evictor) {
        Stripe s = stripes[(int) Thread.currentThread().threadId() & (stripes.length - 1)];
        HeapDamage first = null;
        s.lock.lock();
        try {
            s.push(p, size);
            while (s.bytes > stripeBytes && s.count > 1) {
                HeapDamage d = evictor.evict(s.pop());
                if (first == null) first = d;
            }
        } finally {
            s.lock.unlock();
        }
        return first;
    }

    /** Empties the quarantine; returns every damage found in the blocks that left. */
    java.util.List<HeapDamage> drain(Evictor evictor) {
        java.util.List<HeapDamage> found = new java.util.ArrayList<>();
        for (Stripe s : stripes) {
            s.lock.lock();
            try {
                while (s.count > 0) {
                    HeapDamage d = evictor.evict(s.pop());
                    if (d != null) found.add(d);
                }
            } finally {
                s.lock.unlock();
            }
        }
        return found;
    }

    /** @return {blocks, bytes} held now */
    long[] held() {
        long blocks = 0, bytes = 0;
        for (Stripe s : stripes) {
            s.lock.lock();
            try {
                blocks += s.count;
                bytes += s.bytes;
            } finally {
                s.lock.unlock();
            }
        }
        return new long[] {blocks, bytes};
    }

    /** One FIFO ring of addresses with their sizes. */
    private static final class Stripe {
        final ReentrantLock lock = new ReentrantLock();
        long[] addresses = new long[64];
        long[] sizes = new long[64];
        int head, count;
        long bytes;

        void push(long p, long size) {
            if (count == addresses.length) grow();
            int i = (head + count) & (addresses.length - 1);
            addresses[i] = p;
            sizes[i] = size;
            count++;
            bytes += size;
        }

        long pop() {
            long p = addresses[head];
            bytes -= sizes[head];
            head = (head + 1) & (addresses.length - 1);
            count--;
            return p;
        }

        private void grow() {
            int n = addresses.length;
            long[] a = new long[n * 2], z = new long[n * 2];
            for (int i = 0; i < count; i++) {
                a[i] = addresses[(head + i) & (n - 1)];
                z[i] = sizes[(head + i) & (n - 1)];
            }
            addresses = a;
            sizes = z;
            head = 0;
        }
    }
}
