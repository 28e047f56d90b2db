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
 * The adoption of a dead cache whose slab is already queued on its pending stack, racing the frees that empty that
 * slab. The dead cache allocated A, B and C; another thread freed C after the cache's thread ended, so the slab waits
 * on the dead cache's stack with its {@code pending} flag set. The adopter takes the stack (closing it), clears the
 * flag of every slab it took, re-owns and collects the slabs, and gives back the ones that are empty; meanwhile a
 * second thread frees A and B. Its first free may find the flag still set (and count on the queued slab being
 * collected), or cleared (and push the slab again: onto the closed stack, forwarded, or onto the adopter's directly).
 * Whichever: A, B and C come back exactly once, nothing stays queued, and the slab's object, once given back and
 * reused for a new slab, hands out no block twice. The arbiter drains as the adopter, then allocates more blocks than
 * two slabs hold and checks that they are all different.
 *
 * <p>r1: adoption gave the slab back (it had collected every free); r2: both frees succeeded; r3: the arbiter's
 * violation bits ({@link Fixture}).
 */
@JCStressTest
@Description("Adoption of a dead cache with a queued slab while another thread frees that slab's last blocks.")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE,
        desc = "The frees came first; adoption collected them all and gave the empty slab back.")
@Outcome(id = "0, 1, 0", expect = ACCEPTABLE,
        desc = "A free came after adoption collected the slab; the adopter's drain got it and kept the slab.")
@Outcome(expect = FORBIDDEN,
        desc = "A free rejected, lost or collected twice, a slab left queued, or a block handed out twice (r3 = bits).")
@State
public class RemoteFreeVsAdoptQueuedTest {
    private final Fixture.Source source = new Fixture.Source();
    private final LocalHeap dead = Fixture.dead(source);
    private final LocalHeap adopter = Fixture.live(source);
    private final LocalHeap early = Fixture.live(source);
    private final LocalHeap remote = Fixture.live(source);
    private final Slab slab;
    private final int idxA, idxB, idxC;

    public RemoteFreeVsAdoptQueuedTest() {
        long a = dead.allocate(Fixture.CLASS, Fixture.SIZE);
        slab = source.last;
        long b = dead.allocate(Fixture.CLASS, Fixture.SIZE);
        long c = dead.allocate(Fixture.CLASS, Fixture.SIZE);
        if (source.last != slab || source.created != 1) {
            throw new IllegalStateException("setup: A, B and C are not in one slab");
        }
        idxA = slab.indexOf(a);
        idxB = slab.indexOf(b);
        idxC = slab.indexOf(c);
        if (!early.freeRemote(slab, idxC) || dead.pendingHead() != slab) {
            throw new IllegalStateException("setup: C's free did not queue the slab");
        }
    }

    @Actor
    public void adopter(III_Result r) {
        adopter.adopt(dead);
        r.r1 = source.released;
    }

    @Actor
    public void remote(III_Result r) {
        boolean ok = remote.freeRemote(slab, idxA);
        ok &= remote.freeRemote(slab, idxB);
        r.r2 = ok ? 1 : 0;
    }

    @Arbiter
    public void arbiter(III_Result r) {
        adopter.drainPending();
        int v = Fixture.settled(slab) | Fixture.stacksEmpty(adopter, early, remote);
        if (!Fixture.closed(dead)) v |= Fixture.PENDING;
        boolean released = source.released == 1;
        if (!released && (!Fixture.isFree(slab, idxA) || !Fixture.isFree(slab, idxB) || !Fixture.isFree(slab, idxC))) {
            v |= Fixture.BLOCK;
        }
        if (slab.used != 0) v |= Fixture.USED;
        v |= Fixture.stats(0, 3, 3, dead, adopter, early, remote);
        if (source.created != 1 || source.released > 1 || slab.owner != adopter || dead.ownedSlabs() != 0
                || adopter.ownedSlabs() != (released ? 0 : 1)) {
            v |= Fixture.OWNER;
        }
        // The slab's object (kept for reuse when given back) and its blocks serve new mallocs: each block once
        int n = 2 * slab.capacity + 1;
        java.util.HashSet<Long> seen = new java.util.HashSet<>();
        for (int i = 0; i < n; i++) {
            if (!seen.add(adopter.allocate(Fixture.CLASS, Fixture.SIZE))) v |= Fixture.DOUBLE;
        }
        adopter.drainPending();
        r.r3 = v;
    }
}
