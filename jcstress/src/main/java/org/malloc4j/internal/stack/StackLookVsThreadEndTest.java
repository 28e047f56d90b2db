package org.malloc4j.internal.stack;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.CountDownLatch;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * A thread's first push, the stack pool empty, looks at the platform stacks for an ended thread's block
 * ({@code StackRegistry.reclaimSomeEnded}: a bounded round-robin that swap-removes the ended stacks it passes) while
 * the first of them, thread T's, ends. The list: T's stack holding block B1, then a stack of a thread alive for the
 * whole run holding B2. The push takes B1 only once T has ended, and then T's stack holds it no longer; else it takes
 * a fresh block from the heap. B2's thread lives: its block stays where it is, its stack listed.
 *
 * <p>r1: the block the push took (1: B1, 2: B2, 0: a fresh one); r2: 1 when T's block was gone before T ended (taken
 * from a live thread); r3: the places B1 is in (the three stacks, the pool); r4: the places B2 is in, plus 10 unless
 * B2's stack and the pusher's are each listed once, plus 100 unless the heap's outstanding blocks are those held.
 */
@JCStressTest
@Description("A first push looks for an ended thread's stack block while that thread ends: never taken from a live "
        + "thread, never in two places, never lost.")
@Outcome(id = "1, 0, 1, 1", expect = ACCEPTABLE, desc = "T ended first: the push took its block B1.")
@Outcome(id = "0, 0, 1, 1", expect = ACCEPTABLE, desc = "T was alive at the look: the push took a fresh block.")
@Outcome(expect = FORBIDDEN, desc = "A live thread's block taken, a block in two places or lost, a stack unlisted.")
@State
public class StackLookVsThreadEndTest {
    private final StackFixture.Core core = new StackFixture.Core();
    private final StackRegistry registry = new StackRegistry(core, StackFixture.SIZE, d -> {});
    private final CountDownLatch end = new CountDownLatch(1);
    private final Thread t = new Thread(null, new StackFixture.Waiter(end), "malloc4j-jcstress-ending-stack-owner");
    private final ThreadStack ending;
    private final ThreadStack live;
    private final long b1;
    private final long b2;
    private ThreadStack mine;

    public StackLookVsThreadEndTest() {
        t.setDaemon(true); // a state jcstress never runs leaves its thread waiting
        t.start();
        ending = StackFixture.holding(registry, core, t);
        live = StackFixture.holding(registry, core, StackFixture.ALIVE);
        b1 = ending.heldBlock();
        b2 = live.heldBlock();
    }

    @Actor
    public void push(IIII_Result r) {
        ThreadStack s = StackFixture.firstPush(registry, core);
        long b = s.heldBlock();
        r.r1 = b == b1 ? 1 : b == b2 ? 2 : 0;
        mine = s;
    }

    @Actor
    public void end(IIII_Result r) {
        r.r2 = ending.heldBlock() == b1 ? 0 : 1;
        end.countDown();
        try {
            t.join();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Arbiter
    public void arbiter(IIII_Result r) {
        r.r3 = StackFixture.places(registry, b1, ending, live, mine);
        int listed = StackFixture.listed(registry, live) == 1 && StackFixture.listed(registry, mine) == 1 ? 0 : 10;
        int held = r.r1 == 1 ? 2 : 3;
        r.r4 = StackFixture.places(registry, b2, ending, live, mine) + listed + (core.outstanding() == held ? 0 : 100);
    }
}
