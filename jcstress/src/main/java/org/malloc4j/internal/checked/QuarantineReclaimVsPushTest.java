package org.malloc4j.internal.checked;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.malloc4j.HeapDamage;
import org.malloc4j.internal.small.LocalHeap;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * A thread fills its quarantine ring, most of its pushes without a lock, while a second thread joins: the share
 * halves, the pool is empty, and the joining ring takes lease back from the first by evicting that ring's oldest
 * blocks under its lock, racing the pushes. Every block must leave at most once, none may be lost, and the two rings
 * must never hold more than the capacity (before 2026-12-07 the joining ring overdrew it: 65 blocks in 64).
 *
 * <p>r1: blocks evicted twice, or an address never pushed (a slot read before its push was published); r2: blocks
 * neither held nor evicted; r3: blocks held over the capacity.
 */
@JCStressTest
@Description("A reclaim of a ring's lease races that ring's lock-free pushes: no block lost or evicted twice, "
        + "and the capacity holds.")
@Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "Every block accounted for once, within the capacity.")
@Outcome(expect = FORBIDDEN, desc = "A block evicted twice or lost, a stale slot evicted, or the capacity exceeded.")
@State
public class QuarantineReclaimVsPushTest {
    private static final int CAPACITY = 64, FILLS = 64;
    private static final long BLOCK = Quarantine.charge(16, RedZones.HEADER);

    /** Evictions per block: blocks 0 .. FILLS - 1 the filler's, FILLS the joiner's; anything else counts in bad. */
    private final AtomicIntegerArray evicted = new AtomicIntegerArray(FILLS + 1);
    private final AtomicIntegerArray bad = new AtomicIntegerArray(1);
    private final Quarantine q = new Quarantine(CAPACITY * BLOCK, this::evict);

    private HeapDamage evict(long p, LocalHeap own) {
        long i = p / 16 - 1;
        if (p % 16 != 0 || i < 0 || i > FILLS) bad.incrementAndGet(0);
        else evicted.incrementAndGet((int) i);
        return null;
    }

    private void add(long i) {
        long share = q.share();
        q.add((i + 1) * 16, 16, RedZones.HEADER, share, null);
    }

    @Actor
    public void filler() {
        for (int i = 0; i < FILLS; i++) add(i);
    }

    @Actor
    public void joiner() {
        add(FILLS);
    }

    @Arbiter
    public void arbiter(III_Result r) {
        int twice = bad.get(0), out = 0;
        for (int i = 0; i <= FILLS; i++) {
            int n = evicted.get(i);
            if (n > 1) twice++;
            out += Math.min(n, 1);
        }
        long held = q.held()[0];
        r.r1 = twice;
        r.r2 = (int) (FILLS + 1 - out - held);
        r.r3 = (int) Math.max(0, held - CAPACITY);
    }
}
