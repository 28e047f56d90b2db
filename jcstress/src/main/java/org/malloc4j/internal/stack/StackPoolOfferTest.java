package org.malloc4j.internal.stack;

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
 * Two threads give a block back to a stack pool with one free slot at once (two virtual threads' outermost pops):
 * exactly one is taken, the other thread keeps its block (and frees it to the heap); the slot holds the block taken.
 * Both taken would overwrite one block with the other (a stack block lost for good); neither, a block freed that the
 * pool had room for.
 *
 * <p>r1, r2: the pool took the first thread's block X, the second's Y; r3: what the pool holds afterwards (1: X,
 * 2: Y, 3: both, 0: none).
 */
@JCStressTest
@Description("Two threads offer a block to the stack pool's last free slot: exactly one is kept.")
@Outcome(id = "1, 0, 1", expect = ACCEPTABLE, desc = "The pool took X; Y's thread keeps Y.")
@Outcome(id = "0, 1, 2", expect = ACCEPTABLE, desc = "The pool took Y; X's thread keeps X.")
@Outcome(expect = FORBIDDEN, desc = "Both taken (one lost), neither, or the pool holding another block.")
@State
public class StackPoolOfferTest {
    private static final long X = 0x7000_0000_1000L, Y = 0x7000_0000_2000L, Z = 0x7000_0000_3000L;
    private final StackPool pool = new StackPool(2);

    public StackPoolOfferTest() {
        if (!pool.offer(Z)) throw new IllegalStateException("setup: the pool refused Z");
    }

    @Actor
    public void first(III_Result r) {
        r.r1 = pool.offer(X) ? 1 : 0;
    }

    @Actor
    public void second(III_Result r) {
        r.r2 = pool.offer(Y) ? 1 : 0;
    }

    @Arbiter
    public void arbiter(III_Result r) {
        int[] in = {0};
        pool.forEachIdle(b -> in[0] += b == X ? 1 : b == Y ? 2 : b == Z ? 0 : 100);
        r.r3 = pool.idle() == 2 ? in[0] : 100 + in[0];
    }
}
