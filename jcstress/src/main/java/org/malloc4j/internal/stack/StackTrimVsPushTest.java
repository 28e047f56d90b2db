package org.malloc4j.internal.stack;

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
 * A trim takes back the blocks of the ended platform threads' stacks ({@code StackRegistry.releaseEnded}: one kept
 * aside under the monitor, the others offered to the pool inside it, the kept one offered after it) while a thread's
 * first push, the pool empty, takes a block: from the pool (one the trim offered), from an ended thread's stack (its
 * own bounded look), or fresh from the heap. Two ended threads' stacks hold B1 and B2. Whatever the order, each block
 * is in exactly one place (a stack or the pool) and the heap's outstanding blocks are exactly the ones held.
 *
 * <p>r1: the block the push took (1: B1, 2: B2, 0: a fresh one); r2, r3: the places B1, B2 are in (the two ended
 * stacks, the pusher's, the pool); r4: the heap's outstanding blocks minus those held (0), plus 10 unless the
 * pusher's stack is listed once.
 */
@JCStressTest
@Description("trim() takes back ended threads' stack blocks while a first push takes one: each block in one place.")
@Outcome(id = "1, 1, 1, 0", expect = ACCEPTABLE, desc = "The push took B1 (from its stack, or from the pool).")
@Outcome(id = "2, 1, 1, 0", expect = ACCEPTABLE, desc = "The push took B2 from the pool, where the trim put it.")
@Outcome(id = "0, 1, 1, 0", expect = ACCEPTABLE,
        desc = "The trim had emptied the list but not yet filled the pool: the push took a fresh block.")
@Outcome(expect = FORBIDDEN, desc = "A block in two places or lost, a block freed while held, or a stack unlisted.")
@State
public class StackTrimVsPushTest {
    private final StackFixture.Core core = new StackFixture.Core();
    private final StackRegistry registry = new StackRegistry(core, StackFixture.SIZE, d -> {});
    private final ThreadStack d1 = StackFixture.holding(registry, core, StackFixture.DEAD);
    private final ThreadStack d2 = StackFixture.holding(registry, core, StackFixture.DEAD);
    private final long b1 = d1.heldBlock();
    private final long b2 = d2.heldBlock();
    private ThreadStack mine;

    @Actor
    public void push(IIII_Result r) {
        ThreadStack s = StackFixture.firstPush(registry, core);
        long b = s.heldBlock();
        r.r1 = b == b1 ? 1 : b == b2 ? 2 : 0;
        mine = s;
    }

    @Actor
    public void trim() {
        registry.releaseEnded();
    }

    @Arbiter
    public void arbiter(IIII_Result r) {
        r.r2 = StackFixture.places(registry, b1, d1, d2, mine);
        r.r3 = StackFixture.places(registry, b2, d1, d2, mine);
        int held = r.r1 == 0 ? 3 : 2;
        r.r4 = core.outstanding() - held + (StackFixture.listed(registry, mine) == 1 ? 0 : 10);
    }
}
