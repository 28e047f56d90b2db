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
 * A remote free racing with the adoption of its slab's dead owner. A cache whose thread has terminated allocated
 * A and B (its slab stays non-empty: B is live); the adopter, a live cache with a slab of the same class of its
 * own, adopts the dead cache (re-owns every slab, closes the dead pending stack, collects every slab) while another
 * thread frees A: its push may land on the dead stack before it closes, be forwarded from the closed stack to the
 * adopter, or go to the adopter directly. The arbiter drains the adopter and checks that A is free in its view, B
 * still live, the slab owned by the adopter.
 *
 * <p>r1: adoption itself collected A's free; r2: the remote free succeeded; r3: the arbiter's violation bits
 * ({@link Fixture}). A lost forwarding shows as bit 1 (remote bit left); a forwarding loop never ends and jcstress
 * reports the test as stuck.
 */
@JCStressTest
@Description("Remote free into a slab of a dead thread's cache while a live cache adopts it: the free is not lost.")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "The free came first; adoption collected it.")
@Outcome(id = "0, 1, 0", expect = ACCEPTABLE,
        desc = "The free came after adoption collected the slab; the adopter's drain got it (forwarded or direct).")
@Outcome(expect = FORBIDDEN, desc = "Remote free rejected, lost, or counted twice (r3 = violation bits).")
@State
public class RemoteFreeVsAdoptTest {
    private final Fixture.Source source = new Fixture.Source();
    private final LocalHeap dead = Fixture.dead(source);
    private final LocalHeap adopter = Fixture.live(source);
    private final LocalHeap remote = Fixture.live(source);
    private final Slab slab, own;
    private final int idxA, idxB, idxC;

    public RemoteFreeVsAdoptTest() {
        // What the dead thread did before it ended (visible to the actors, as thread termination makes it).
        long a = dead.allocate(Fixture.CLASS, Fixture.SIZE);
        long b = dead.allocate(Fixture.CLASS, Fixture.SIZE);
        slab = source.last;
        idxA = slab.indexOf(a);
        idxB = slab.indexOf(b);
        long c = adopter.allocate(Fixture.CLASS, Fixture.SIZE);
        own = source.last;
        idxC = own.indexOf(c);
    }

    @Actor
    public void adopter(III_Result r) {
        adopter.adopt(dead);
        r.r1 = Fixture.collected(slab, idxA) ? 1 : 0;
    }

    @Actor
    public void remote(III_Result r) {
        r.r2 = remote.freeRemote(slab, idxA) ? 1 : 0;
    }

    @Arbiter
    public void arbiter(III_Result r) {
        adopter.drainPending();
        int v = Fixture.settled(slab) | Fixture.settled(own) | Fixture.stacksEmpty(adopter, remote);
        if (!Fixture.closed(dead)) v |= Fixture.PENDING;
        if (!Fixture.isFree(slab, idxA) || Fixture.isFree(slab, idxB) || Fixture.isFree(own, idxC)) {
            v |= Fixture.BLOCK;
        }
        if (slab.used != 1 || own.used != 1) v |= Fixture.USED;
        v |= Fixture.stats(2L * Fixture.SIZE, 3, 1, dead, adopter, remote);
        if (slab.owner != adopter || own.owner != adopter || adopter.ownedSlabs() != 2 || dead.ownedSlabs() != 0
                || source.created != 2 || source.released != 0) {
            v |= Fixture.OWNER;
        }
        r.r3 = v;
    }
}
