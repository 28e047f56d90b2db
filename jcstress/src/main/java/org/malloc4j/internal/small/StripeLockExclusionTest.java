package org.malloc4j.internal.small;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Two threads take a stripe's {@link StripeLock} at once and each does a read-modify-write of two plain fields
 * under it, as two virtual threads do to a shared cache's counters and bitmaps. The lock is given back by a plain
 * release store, with no fence after it: what the first holder wrote must still be seen by the second, and the two
 * critical sections must not overlap.
 *
 * <p>r1: the counter after both; r2: 1 when an actor saw the other inside its critical section.
 */
@JCStressTest
@Description("Two threads increment plain fields under a StripeLock: no lost update, no overlap.")
@Outcome(id = "2, 0", expect = ACCEPTABLE, desc = "Both increments kept, the critical sections apart.")
@Outcome(expect = FORBIDDEN, desc = "A lost update or two holders at once.")
@State
public class StripeLockExclusionTest {
    private final StripeLock lock = new StripeLock();
    private int counter;
    private int inside;
    private int overlap;

    @Actor
    public void first() {
        critical();
    }

    @Actor
    public void second() {
        critical();
    }

    private void critical() {
        lock.lock();
        try {
            if (inside != 0) overlap = 1;
            inside = 1;
            counter = counter + 1;
            inside = 0;
        } finally {
            lock.unlock();
        }
    }

    @Arbiter
    public void check(II_Result r) {
        r.r1 = counter;
        r.r2 = overlap;
    }
}
