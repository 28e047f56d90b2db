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
 * Like {@link RemoteFreeVsAdoptTest}, but A is the dead cache's only live block, so the free empties the slab.
 * When adoption collects the free it gives the empty slab back to the page layer, and the remote thread's late
 * push (if any) reaches a slab nobody owns any more: it must find A free, harmlessly. When the free comes after
 * adoption, the adopter keeps the slab (non-empty then) and collects A on its drain; the empty slab stays as the
 * class's spare. Either way A is free exactly once and nothing is left pending.
 *
 * <p>r1: adoption gave the slab back; r2: the remote free succeeded; r3: the arbiter's violation bits
 * ({@link Fixture}).
 */
@JCStressTest
@Description("Remote free of a dead cache's last live block while a live cache adopts it: never lost, never looping.")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE,
        desc = "The free came first; adoption collected it and gave the empty slab back.")
@Outcome(id = "0, 1, 0", expect = ACCEPTABLE,
        desc = "The free came after adoption; the adopter collected it on its drain and kept the slab as a spare.")
@Outcome(expect = FORBIDDEN, desc = "Remote free rejected, lost, or counted twice (r3 = violation bits).")
@State
public class RemoteFreeVsAdoptEmptyTest {
    private final Fixture.Source source = new Fixture.Source();
    private final LocalHeap dead = Fixture.dead(source);
    private final LocalHeap adopter = Fixture.live(source);
    private final LocalHeap remote = Fixture.live(source);
    private final Slab slab;
    private final int idxA;

    public RemoteFreeVsAdoptEmptyTest() {
        long a = dead.allocate(Fixture.CLASS, Fixture.SIZE);
        slab = source.last;
        idxA = slab.indexOf(a);
    }

    @Actor
    public void adopter(III_Result r) {
        adopter.adopt(dead);
        r.r1 = source.released;
    }

    @Actor
    public void remote(III_Result r) {
        r.r2 = remote.freeRemote(slab, idxA) ? 1 : 0;
    }

    @Arbiter
    public void arbiter(III_Result r) {
        adopter.drainPending();
        int v = Fixture.settled(slab) | Fixture.stacksEmpty(adopter, remote);
        if (!Fixture.closed(dead)) v |= Fixture.PENDING;
        if (!Fixture.isFree(slab, idxA)) v |= Fixture.BLOCK;
        if (slab.used != 0) v |= Fixture.USED;
        v |= Fixture.stats(0, 1, 1, dead, adopter, remote);
        boolean released = source.released == 1 && source.lastReleased == slab;
        int owned = released ? 0 : 1;
        if (source.created != 1 || source.released > 1 || slab.owner != adopter || adopter.ownedSlabs() != owned
                || dead.ownedSlabs() != 0) {
            v |= Fixture.OWNER;
        }
        r.r3 = v;
    }
}
