package org.malloc4j.internal.small;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

/**
 * Live bytes read while the owner collects remote frees. The owner allocated A and B (1,000 bytes each, in 1,024-byte
 * blocks); another cache freed both, counting each at its block size, so the slab waits on the owner's pending stack
 * with 48 bytes of slack owed. One actor, the owner, drains its stack; the other reads the two caches' live bytes as
 * statistics do. Nothing is live before, during or after, so every read must be 0: the owner takes the whole stack
 * before it counts the slack back, and a reader between the two (the purger collects a stripe while the program
 * calls stats()) read -48 before {@link LocalHeap#liveBytes} waited for a collection in progress.
 *
 * <p>r1: the reader's live bytes; r2: the arbiter's, after the drain.
 */
@JCStressTest
@Description("The caches' live bytes read while the owner collects the remote frees of its blocks.")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "Exact before, during and after the collection.")
@Outcome(expect = FORBIDDEN, desc = "The slack of a slab taken off the pending stack and not yet collected was lost.")
@State
public class LiveBytesDuringDrainTest {
    private final Fixture.Source source = new Fixture.Source();
    private final LocalHeap owner = Fixture.live(source);
    private final LocalHeap remote = Fixture.live(source);

    public LiveBytesDuringDrainTest() {
        long a = owner.allocate(Fixture.CLASS, Fixture.SIZE);
        long b = owner.allocate(Fixture.CLASS, Fixture.SIZE);
        Slab slab = source.last;
        if (!remote.freeRemote(slab, slab.indexOf(a)) || !remote.freeRemote(slab, slab.indexOf(b))) {
            throw new IllegalStateException("setup: a remote free was rejected");
        }
    }

    @Actor
    public void owner() {
        owner.drainPending();
    }

    @Actor
    public void reader(JJ_Result r) {
        r.r1 = owner.liveBytes() + remote.liveBytes();
    }

    @Arbiter
    public void arbiter(JJ_Result r) {
        r.r2 = owner.liveBytes() + remote.liveBytes();
    }
}
