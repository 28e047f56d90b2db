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
 * Cross-thread free handoff. The owner has allocated block A; one actor, the owner, drains its pending stack and
 * allocates again (the lowest free block: A itself if its remote free was collected by then); the other frees A
 * remotely (remote bit, pending flag, push on the owner's stack). The arbiter, acting as the owner, drains once
 * more and checks that A went back exactly once.
 *
 * <p>r1: the owner's allocation reused A; r2: the remote free succeeded; r3: the arbiter's violation bits
 * ({@link Fixture}).
 */
@JCStressTest
@Description("Remote free of a block while its owner drains and allocates: the free is handed over exactly once.")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE,
        desc = "The owner collected the remote free before allocating and got the same block back.")
@Outcome(id = "0, 1, 0", expect = ACCEPTABLE,
        desc = "The owner allocated another block before the free arrived; its next drain collected the free.")
@Outcome(expect = FORBIDDEN,
        desc = "Remote free rejected, lost, or counted twice, or slab/stats inconsistent (r3 = violation bits).")
@State
public class RemoteFreeHandoffTest {
    private final Fixture.Source source = new Fixture.Source();
    private final LocalHeap owner = Fixture.live(source);
    private final LocalHeap remote = Fixture.live(source);
    private final long a;
    private final Slab slab;
    private final int idx;
    private long b;

    public RemoteFreeHandoffTest() {
        a = owner.allocate(Fixture.CLASS, Fixture.SIZE);
        slab = source.last;
        idx = slab.indexOf(a);
    }

    @Actor
    public void owner(III_Result r) {
        owner.drainPending();
        b = owner.allocate(Fixture.CLASS, Fixture.SIZE);
        r.r1 = b == a ? 1 : 0;
    }

    @Actor
    public void remote(III_Result r) {
        r.r2 = remote.freeRemote(slab, idx) ? 1 : 0;
    }

    @Arbiter
    public void arbiter(III_Result r) {
        owner.drainPending();
        int v = Fixture.settled(slab) | Fixture.stacksEmpty(owner, remote);
        int ib = slab.indexOf(b);
        if (ib < 0 || Fixture.isFree(slab, ib)) v |= Fixture.BLOCK; // b is live
        if (b != a && !Fixture.isFree(slab, idx)) v |= Fixture.BLOCK; // A came back once, unless b is A again
        if (slab.used != 1) v |= Fixture.USED;
        v |= Fixture.stats(Fixture.SIZE, 2, 1, owner, remote);
        if (source.created != 1 || source.released != 0 || slab.owner != owner) v |= Fixture.OWNER;
        r.r3 = v;
    }
}
