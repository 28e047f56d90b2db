package org.malloc4j.internal.small;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * A remote free racing with the owner's collection, then a double free. The owner has allocated A and B; B was
 * already freed remotely, so the slab sits on the owner's pending stack with its {@code pending} flag set. One
 * actor, the owner, drains (swaps the stack, clears {@code pending}, folds {@code remote} into {@code free},
 * clears the folded remote bits); the other frees A remotely and then frees A again. Its first free may find
 * {@code pending} still set and skip the push, counting on the collect in progress to see its bit: that is the
 * window where a free can be lost. The second free must be rejected whether or not the owner collected the first
 * in between. The arbiter drains as the owner, checks, and tries a third free of A (rejected).
 *
 * <p>r1: the owner's drain collected A; r2: the first free succeeded; r3: the second free succeeded (a double
 * free let through); r4: the arbiter's violation bits ({@link Fixture}).
 */
@JCStressTest
@Description("Remote free while the owner collects the slab, then a second free of the same block.")
@Outcome(id = "1, 1, 0, 0", expect = ACCEPTABLE,
        desc = "The owner's drain collected A; the second free was rejected.")
@Outcome(id = "0, 1, 0, 0", expect = ACCEPTABLE,
        desc = "A's free came after the owner's collect; the arbiter's drain collected it; second free rejected.")
@Outcome(expect = FORBIDDEN,
        desc = "First free rejected, double free accepted, free lost or counted twice (r4 = violation bits).")
@State
public class RemoteFreeRacingCollectTest {
    private final Fixture.Source source = new Fixture.Source();
    private final LocalHeap owner = Fixture.live(source);
    private final LocalHeap remote = Fixture.live(source);
    private final Slab slab;
    private final int idxA, idxB;

    public RemoteFreeRacingCollectTest() {
        long a = owner.allocate(Fixture.CLASS, Fixture.SIZE);
        long b = owner.allocate(Fixture.CLASS, Fixture.SIZE);
        slab = source.last;
        idxA = slab.indexOf(a);
        idxB = slab.indexOf(b);
        if (!remote.freeRemote(slab, idxB)) throw new IllegalStateException("setup: free of B rejected");
    }

    @Actor
    public void owner(IIII_Result r) {
        owner.drainPending();
        r.r1 = Fixture.collected(slab, idxA) ? 1 : 0;
    }

    @Actor
    public void remote(IIII_Result r) {
        r.r2 = remote.freeRemote(slab, idxA) ? 1 : 0;
        r.r3 = remote.freeRemote(slab, idxA) ? 1 : 0;
    }

    @Arbiter
    public void arbiter(IIII_Result r) {
        owner.drainPending();
        int v = Fixture.settled(slab) | Fixture.stacksEmpty(owner, remote);
        if (!Fixture.isFree(slab, idxA) || !Fixture.isFree(slab, idxB)) v |= Fixture.BLOCK;
        if (slab.used != 0) v |= Fixture.USED;
        v |= Fixture.stats(0, 2, 2, owner, remote);
        if (source.created != 1 || source.released != 0 || slab.owner != owner) v |= Fixture.OWNER;
        if (remote.freeRemote(slab, idxA)) v |= Fixture.DOUBLE; // certainly after the collection now
        r.r4 = v;
    }
}
