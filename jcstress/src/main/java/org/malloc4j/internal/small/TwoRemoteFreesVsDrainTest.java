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
 * Two threads free the same owner's blocks at once. The owner filled its first slab S1 (it floats, full) and holds two
 * blocks of its second, S2 (current). One freeing thread frees A of S1; the other frees A2 of S1, then C of S2. So the
 * two threads race for S1's pending flag (the loser must not push, and its block must still be collected), and may
 * push two slabs onto the owner's stack at once (two compare-and-sets on one head, each writing its slab's link before
 * its own). The arbiter, as the owner, checks that both slabs are queued once, drains, allocates (the lowest free block
 * of S2: C, once collected) and checks that every freed block came back exactly once, that the block it allocated is
 * live and no other block was handed out, and that no slab is left queued or flagged. (Two actors only: jcstress runs
 * no test with more actors than the machine has CPUs; the owner's drain racing a push is
 * {@link RemoteFreeRacingCollectTest}'s.)
 *
 * <p>r1: the first thread's free succeeded; r2: both of the second thread's frees succeeded; r3: 1 when S1 sits above
 * S2 on the stack (pushed last: by the first thread, after the second pushed S2), 0 below it, 9 when the stack does not
 * hold both slabs once each; r4: the arbiter's violation bits ({@link Fixture}).
 */
@JCStressTest
@Description("Two remote freers race for one slab's pending flag and push two slabs onto one stack at once.")
@Outcome(id = "1, 1, 0, 0", expect = ACCEPTABLE, desc = "S1 queued below S2; every free collected once.")
@Outcome(id = "1, 1, 1, 0", expect = ACCEPTABLE,
        desc = "S1 queued above S2 (the first thread won its flag, after S2's push); every free collected once.")
@Outcome(expect = FORBIDDEN,
        desc = "A free rejected, lost or collected twice, a block handed out twice, or a slab left queued (r4 = bits).")
@State
public class TwoRemoteFreesVsDrainTest {
    private final Fixture.Source source = new Fixture.Source();
    private final LocalHeap owner = Fixture.live(source);
    private final LocalHeap first = Fixture.live(source);
    private final LocalHeap second = Fixture.live(source);
    private final Slab s1, s2;
    private final int idxA, idxA2, idxC, idxD;
    /** Blocks the owner allocated before the actors ran. */
    private final int mallocs;

    public TwoRemoteFreesVsDrainTest() {
        long a = owner.allocate(Fixture.CLASS, Fixture.SIZE);
        s1 = source.last;
        long a2 = owner.allocate(Fixture.CLASS, Fixture.SIZE);
        int n = 2;
        long c;
        do { // fill S1: the first block of a new slab is C
            c = owner.allocate(Fixture.CLASS, Fixture.SIZE);
            n++;
        } while (source.last == s1);
        s2 = source.last;
        long d = owner.allocate(Fixture.CLASS, Fixture.SIZE);
        mallocs = n + 1;
        if (s2.capacity < 3 || source.created != 2) throw new IllegalStateException("setup: unexpected slabs");
        idxA = s1.indexOf(a);
        idxA2 = s1.indexOf(a2);
        idxC = s2.indexOf(c);
        idxD = s2.indexOf(d);
    }

    @Actor
    public void first(IIII_Result r) {
        r.r1 = first.freeRemote(s1, idxA) ? 1 : 0;
    }

    @Actor
    public void second(IIII_Result r) {
        boolean ok = second.freeRemote(s1, idxA2);
        ok &= second.freeRemote(s2, idxC);
        r.r2 = ok ? 1 : 0;
    }

    @Arbiter
    public void arbiter(IIII_Result r) {
        Slab top = owner.pendingHead();
        // Both slabs queued, once each: a push lost (or a slab pushed twice) shows as 9
        r.r3 = top == s1 && s1.nextPending == s2 && s2.nextPending == null ? 1
                : top == s2 && s2.nextPending == s1 && s1.nextPending == null ? 0 : 9;
        owner.drainPending();
        long b = owner.allocate(Fixture.CLASS, Fixture.SIZE);
        int v = Fixture.settled(s1) | Fixture.settled(s2) | Fixture.stacksEmpty(owner, first, second);
        int ib = s2.indexOf(b);
        // C, collected, is the lowest free block of S2, the current slab: b is C again, live
        if (ib != idxC || Fixture.isFree(s2, ib)) v |= Fixture.BLOCK;
        if (!Fixture.isFree(s1, idxA) || !Fixture.isFree(s1, idxA2) || Fixture.isFree(s2, idxD)) v |= Fixture.BLOCK;
        // S1 keeps all its blocks but A and A2; S2 holds C (b) and D
        if (s1.used != s1.capacity - 2) v |= Fixture.USED;
        if (s2.used != 2) v |= Fixture.USED;
        v |= Fixture.stats((long) (mallocs + 1 - 3) * Fixture.SIZE, mallocs + 1, 3, owner, first, second);
        if (source.created != 2 || source.released != 0 || s1.owner != owner || s2.owner != owner) v |= Fixture.OWNER;
        r.r4 = v;
    }
}
