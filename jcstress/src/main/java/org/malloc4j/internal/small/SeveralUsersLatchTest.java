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
 * Two platform threads each register a cache, allocate a block and ask {@code ThreadCaches.severalUsers}, the latch
 * that page-run mallocs read (once it has seen a second user it keeps that answer, without looking at the caches
 * again). Each thread may answer no (it may not see the other's count yet: the counters are plain fields), but
 * the latch must never keep a "no": once both have counted, the heap has several users, and the answer is yes for
 * good. A "no" kept would have page-run paths skip the peak samples of a heap several threads use.
 *
 * <p>r1, r2: each thread's answer after its own malloc (1: several users); r3: the answer once both are done, plus 10
 * unless the caches counted the two mallocs.
 */
@JCStressTest
@Description("severalUsers() answers yes once two threads have counted, whatever they answered while racing.")
@Outcome(id = "1, 1, 1", expect = ACCEPTABLE, desc = "Both saw the other's count.")
@Outcome(id = {"0, 1, 1", "1, 0, 1"}, expect = ACCEPTABLE, desc = "One asked before the other counted.")
@Outcome(id = "0, 0, 1", expect = ACCEPTABLE_INTERESTING, desc = "Neither saw the other's plain count in time.")
@Outcome(expect = FORBIDDEN, desc = "A heap with two users answered as having one, or a malloc not counted.")
@State
public class SeveralUsersLatchTest {
    private final ThreadCaches caches = new ThreadCaches(new Fixture.Source());

    @Actor
    public void first(III_Result r) {
        r.r1 = mallocAndAsk();
    }

    @Actor
    public void second(III_Result r) {
        r.r2 = mallocAndAsk();
    }

    private int mallocAndAsk() {
        LocalHeap own = caches.get();
        own.allocate(Fixture.CLASS, Fixture.SIZE);
        return caches.severalUsers() ? 1 : 0;
    }

    @Arbiter
    public void arbiter(III_Result r) {
        r.r3 = (caches.severalUsers() ? 1 : 0) + (caches.counted().mallocs() == 2 ? 0 : 10);
    }
}
