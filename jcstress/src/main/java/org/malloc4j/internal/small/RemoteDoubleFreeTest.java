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
 * Two threads, neither the owner, free the same block at once: exactly one free succeeds (the atomic OR on the
 * {@code remote} word decides), the other is rejected as a double free, and the block is counted free once. The
 * arbiter drains as the owner and checks.
 *
 * <p>r1, r2: each thread's free succeeded; r3: the arbiter's violation bits ({@link Fixture}).
 */
@JCStressTest
@Description("Two non-owner threads free the same block concurrently: exactly one succeeds.")
@Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "The first thread's free won; the second was rejected.")
@Outcome(id = "0, 1, 0", expect = ACCEPTABLE, desc = "The second thread's free won; the first was rejected.")
@Outcome(id = "1, 1, .*", expect = FORBIDDEN, desc = "Both frees accepted: a double free went unreported.")
@Outcome(id = "0, 0, .*", expect = FORBIDDEN, desc = "Both frees rejected: a live block could not be freed.")
@Outcome(expect = FORBIDDEN, desc = "Slab or stats inconsistent after the drain (r3 = violation bits).")
@State
public class RemoteDoubleFreeTest {
    private final Fixture.Source source = new Fixture.Source();
    private final LocalHeap owner = Fixture.live(source);
    private final LocalHeap remote1 = Fixture.live(source);
    private final LocalHeap remote2 = Fixture.live(source);
    private final Slab slab;
    private final int idx;

    public RemoteDoubleFreeTest() {
        long a = owner.allocate(Fixture.CLASS, Fixture.SIZE);
        slab = source.last;
        idx = slab.indexOf(a);
    }

    @Actor
    public void first(III_Result r) {
        r.r1 = remote1.freeRemote(slab, idx) ? 1 : 0;
    }

    @Actor
    public void second(III_Result r) {
        r.r2 = remote2.freeRemote(slab, idx) ? 1 : 0;
    }

    @Arbiter
    public void arbiter(III_Result r) {
        owner.drainPending();
        int v = Fixture.settled(slab) | Fixture.stacksEmpty(owner, remote1, remote2);
        if (!Fixture.isFree(slab, idx)) v |= Fixture.BLOCK;
        if (slab.used != 0) v |= Fixture.USED;
        v |= Fixture.stats(0, 1, 1, owner, remote1, remote2);
        if (source.created != 1 || source.released != 0 || slab.owner != owner) v |= Fixture.OWNER;
        r.r3 = v;
    }
}
