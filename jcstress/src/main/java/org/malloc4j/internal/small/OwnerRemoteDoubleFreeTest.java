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
 * The owner and another thread free the same block at once (what {@code Heap.free} does when the owner thread and
 * another thread both free one address): the owner through {@link LocalHeap#freeLocal} (plain reads and writes of
 * its bitmap), the other through {@link LocalHeap#freeRemote} (atomic OR on {@code remote}). Usually one succeeds
 * and the other is reported as a double free. Both may succeed, since the owner's fast path takes no atomic; then
 * the double free goes unreported, but the block must still be free exactly once and the statistics exact. A second block B
 * stays allocated so that the slab is not empty. The arbiter drains as the owner and checks.
 *
 * <p>r1: the owner's free succeeded; r2: the other thread's free succeeded; r3: the arbiter's violation bits
 * ({@link Fixture}).
 */
@JCStressTest
@Description("The owner and another thread free the same block concurrently: usually one succeeds; both may (a "
        + "documented FAST gap), but the block is then free once and the statistics exact.")
@Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "The owner's local free won; the remote free was rejected.")
@Outcome(id = "0, 1, 0", expect = ACCEPTABLE, desc = "The remote free won; the owner's free was rejected.")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE_INTERESTING, desc = "Both frees accepted: the owner's fast path takes no "
        + "atomic, so a double free racing between the owner and another thread can go unreported; the heap and its "
        + "statistics stay exact (the second count is taken back when the owner collects).")
@Outcome(id = "1, 1, .*", expect = FORBIDDEN, desc = "Both frees accepted and the slab or the stats are wrong.")
@Outcome(id = "0, 0, .*", expect = FORBIDDEN, desc = "Both frees rejected: a live block could not be freed.")
@Outcome(expect = FORBIDDEN, desc = "Slab or stats inconsistent after the drain (r3 = violation bits).")
@State
public class OwnerRemoteDoubleFreeTest {
    private final Fixture.Source source = new Fixture.Source();
    private final LocalHeap owner = Fixture.live(source);
    private final LocalHeap remote = Fixture.live(source);
    private final Slab slab;
    private final int idxA, idxB;

    public OwnerRemoteDoubleFreeTest() {
        long a = owner.allocate(Fixture.CLASS, Fixture.SIZE);
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
        owner.drainPending();
        int v = Fixture.settled(slab) | Fixture.stacksEmpty(owner, remote);
        if (!Fixture.isFree(slab, idxA) || Fixture.isFree(slab, idxB)) v |= Fixture.BLOCK;
        if (slab.used != 1) v |= Fixture.USED;
        v |= Fixture.stats(Fixture.SIZE, 2, 1, owner, remote);
        if (source.created != 1 || source.released != 0 || slab.owner != owner) v |= Fixture.OWNER;
        r.r3 = v;
    }
}
