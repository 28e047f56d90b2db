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
 * The stack pool's one idle block taken by two threads at once, one of which gives it back at once (a virtual thread's
 * push and pop outside any other frame): the block moves from its slot to the second thread and, possibly, into
 * another slot (the scans start at slots chosen by thread id), while the first thread scans. The ABA case, the block
 * back in its first slot between the first thread's read and its compare-and-set, hands out a block that is idle,
 * which is correct. What must never happen: the block in a thread's hands and in the pool at once (two stacks would
 * then share it), or in neither (a block lost to the pool, and a stack block never given back to the heap).
 *
 * <p>r1: the first thread took the block; r2: the second thread took it (and gave it back); r3: how many of the
 * pool's slots hold it afterwards. The block is in one place: {@code r1 + r3 == 1}.
 */
@JCStressTest
@Description("Two threads poll the stack pool's one idle block, one gives it back: never in two places, never lost.")
@Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "The first thread took it; the second found the pool empty.")
@Outcome(id = "0, 1, 1", expect = ACCEPTABLE,
        desc = "The second thread took it and gave it back; the first scanned past it while it moved, or before.")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "The second thread took it and gave it back; the first took it.")
@Outcome(expect = FORBIDDEN, desc = "The block handed out while still in the pool, in two slots, or lost.")
@State
public class StackPoolHandOutTest {
    private static final long BLOCK = 0x7000_0000_1000L;
    private final StackPool pool = new StackPool(4);

    public StackPoolHandOutTest() {
        if (!pool.offer(BLOCK)) throw new IllegalStateException("setup: the pool refused the block");
    }

    @Actor
    public void first(III_Result r) {
        long b = pool.poll();
        r.r1 = b == BLOCK ? 1 : b == 0 ? 0 : 9;
    }

    @Actor
    public void second(III_Result r) {
        long b = pool.poll();
        if (b == 0) {
            r.r2 = 0;
        } else {
            r.r2 = b == BLOCK && pool.offer(b) ? 1 : 9;
        }
    }

    @Arbiter
    public void arbiter(III_Result r) {
        int[] in = {0};
        pool.forEachIdle(b -> in[0] += b == BLOCK ? 1 : 100);
        r.r3 = in[0];
    }
}
