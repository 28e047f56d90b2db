package org.malloc4j.internal.small;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * {@link OwnerRemoteDoubleFreeTest}, then the owner allocates again: the owner and another thread free block A at
 * once; once both have returned, the owner's next malloc takes A again (its slab's lowest free block), and it then
 * collects. A is then live, held by the program: the collection must not free it (when the other thread's free won,
 * A waits in the remote bitmap and the malloc takes the next block, which must stay allocated as well). When both frees slipped through
 * (the owner's free takes no fence, so the two cannot see each other), the remote bit of a block that was already free
 * stayed set over the malloc, and a collection that took it for a free of the new block freed a live block: the heap
 * would hand A out a second time.
 *
 * <p>r1: the owner's free succeeded; r2: the other thread's free succeeded; r3: the arbiter's violation bits
 * ({@link Fixture}; {@link Fixture#BLOCK} when the malloc did not return A or the collection freed it).
 */
@JCStressTest
@Description("The owner and another thread free one block at once, then the owner allocates it again and collects: "
        + "the block must stay allocated (never handed out twice) and the statistics exact.")
@Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "The owner's local free won; the remote free was rejected.")
@Outcome(id = "0, 1, 0", expect = ACCEPTABLE, desc = "The remote free won; the owner's free was rejected.")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE_INTERESTING, desc = "Both frees accepted (the documented FAST gap), but "
        + "the block allocated again afterwards stayed allocated and the statistics are exact.")
@Outcome(expect = FORBIDDEN, desc = "The block allocated after both frees was freed by the collection (handed out "
        + "twice), or the slab or the statistics are wrong (r3 = violation bits).")
@State
public class OwnerRemoteDoubleFreeReuseTest {
    private final Fixture.Source source = new Fixture.Source();
    private final LocalHeap owner = Fixture.live(source);
    private final LocalHeap remote = Fixture.live(source);
    private final Slab slab;
    private final long a;
    private final int idxA, idxB;

    public OwnerRemoteDoubleFreeReuseTest() {
        a = owner.allocate(Fixture.CLASS, Fixture.SIZE);
        long b = owner.allocate(Fixture.CLASS, Fixture.SIZE);
        slab = source.last;
        idxA = slab.indexOf(a);
        idxB = slab.indexOf(b);
    }

    @Actor
    public void owner(III_Result r) {
        r.r1 = owner.freeLocal(slab, idxA) ? 1 : 0;
    }

    @Actor
    public void remote(III_Result r) {
        r.r2 = remote.freeRemote(slab, idxA) ? 1 : 0;
    }

    @Arbiter
    public void arbiter(III_Result r) {
        int v = 0;
        // The lowest free block: A when the owner's free put it in the free bitmap (else A waits in the remote one)
        boolean ownerFreed = Fixture.collected(slab, idxA);
        long again = owner.allocate(Fixture.CLASS, Fixture.SIZE);
        int idxAgain = slab.indexOf(again);
        if (ownerFreed != (again == a) || idxAgain < 0) v |= Fixture.BLOCK;
        owner.drainPending();
        v |= Fixture.settled(slab) | Fixture.stacksEmpty(owner, remote);
        if (idxAgain < 0 || Fixture.isFree(slab, idxAgain) || Fixture.isFree(slab, idxB)) v |= Fixture.BLOCK;
        if (slab.used != 2) v |= Fixture.USED;
        v |= Fixture.stats(2L * Fixture.SIZE, 3, 1, owner, remote);
        if (source.created != 1 || source.released != 0 || slab.owner != owner) v |= Fixture.OWNER;
        r.r3 = v;
    }
}
