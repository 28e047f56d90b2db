package org.malloc4j.internal.small;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * The purger (or a cache about to take a new slab) collects a virtual threads' stripe that a virtual thread is using,
 * as {@link ThreadCaches#collectIdleStripes} does: it passes unless the stripe has frees waiting and its lock is free,
 * taken with {@code tryLock}, and drains it under the lock. The stripe allocated A and B; another thread freed A, so
 * the slab waits on the stripe's pending stack. The holder, under {@code lock()}, frees B and allocates (the lowest
 * free block: A if the purger collected it first, else B). Both touch the stripe's plain bitmaps and counters: only
 * the lock keeps them apart, and what one wrote must be what the other reads.
 *
 * <p>r1: the holder's allocation took A (1) or B (0); r2: the purger took the lock and drained; r3: the arbiter's
 * violation bits ({@link Fixture}), after it drained under the lock.
 */
@JCStressTest
@Description("The purger's tryLock-and-drain of a stripe racing a virtual thread's free and malloc on it.")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "The purger collected A first; the holder's malloc took it.")
@Outcome(id = "0, 1, 0", expect = ACCEPTABLE, desc = "The purger collected A after the holder took B back.")
@Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "The purger found the stripe held and passed.")
@Outcome(expect = FORBIDDEN, desc = "A block handed out twice or lost, or the stripe's state inconsistent (r3 = bits).")
@State
public class StripeCollectVsHolderTest {
    private final Fixture.Source source = new Fixture.Source();
    private final LocalHeap stripe = LocalHeap.shared(source);
    private final LocalHeap remote = Fixture.live(source);
    private final Slab slab;
    private final int idxA, idxB;
    private long c;

    public StripeCollectVsHolderTest() {
        stripe.lock().lock();
        try {
            long a = stripe.allocate(Fixture.CLASS, Fixture.SIZE);
            long b = stripe.allocate(Fixture.CLASS, Fixture.SIZE);
            slab = source.last;
            idxA = slab.indexOf(a);
            idxB = slab.indexOf(b);
        } finally {
            stripe.lock().unlock();
        }
        if (!remote.freeRemote(slab, idxA)) throw new IllegalStateException("setup: A's free was rejected");
    }

    @Actor
    public void holder(III_Result r) {
        stripe.lock().lock();
        try {
            if (!stripe.freeLocal(slab, idxB)) {
                r.r1 = 8;
                return;
            }
            c = stripe.allocate(Fixture.CLASS, Fixture.SIZE);
        } finally {
            stripe.lock().unlock();
        }
        int i = slab.indexOf(c);
        r.r1 = i == idxA ? 1 : i == idxB ? 0 : 9;
    }

    @Actor
    public void purger(III_Result r) {
        if (stripe.pendingHead() == null || !stripe.lock().tryLock()) {
            r.r2 = 0;
            return;
        }
        try {
            stripe.drainPending();
            r.r2 = 1;
        } finally {
            stripe.lock().unlock();
        }
    }

    @Arbiter
    public void arbiter(III_Result r) {
        stripe.lock().lock();
        try {
            stripe.drainPending();
            int v = Fixture.settled(slab) | Fixture.stacksEmpty(stripe, remote);
            int ic = slab.indexOf(c);
            if (ic < 0 || Fixture.isFree(slab, ic)) v |= Fixture.BLOCK;
            if (!Fixture.isFree(slab, ic == idxA ? idxB : idxA)) v |= Fixture.BLOCK;
            if (slab.used != 1) v |= Fixture.USED;
            v |= Fixture.stats(Fixture.SIZE, 3, 2, stripe, remote);
            if (source.created != 1 || source.released != 0 || slab.owner != stripe) v |= Fixture.OWNER;
            if (stripe.lock().isHeldByCurrentThread()) r.r3 = v;
        } finally {
            stripe.lock().unlock();
        }
        if (stripe.lock().isHeldByCurrentThread()) r.r3 |= Fixture.OWNER; // a hold left over
    }
}
