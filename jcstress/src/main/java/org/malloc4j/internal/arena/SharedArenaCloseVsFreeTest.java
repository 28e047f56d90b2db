package org.malloc4j.internal.arena;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.malloc4j.Heap;
import org.malloc4j.InvalidFreeException;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

/**
 * A shared arena closed by one thread while another frees two of its segments early ({@code heap.free(segment)}): a
 * segment with a heap block of its own, then one carved from a chunk. Each early free either comes before the close
 * (the arena forgets the segment under its lock, and the free gives its block back) or after it (refused as a segment
 * of a closed arena, {@link InvalidFreeException}): never both, which would free the block twice (the close's own
 * free of it is then refused, and {@code close} throws), and never anything else. Once the close has refused the
 * first free, it refuses the second too.
 *
 * <p>One heap for all states (see {@code CheckedDoubleFreeTest}), an arena per state. r1: the close succeeded (1) or
 * threw (2); r2, r3: the early free of the block segment, of the carved one: 1 freed, 0 refused as closed, 2 anything
 * else thrown; r4: 1 when the arena still counts live segments after the close, 2 when a segment's scope is alive.
 */
@JCStressTest
@Description("A shared arena closed while another thread frees its segments early: each segment freed once.")
@Outcome(id = "1, 1, 1, 0", expect = ACCEPTABLE, desc = "Both early frees came before the close.")
@Outcome(id = "1, 1, 0, 0", expect = ACCEPTABLE, desc = "The block segment's free came first, the carved one's after.")
@Outcome(id = "1, 0, 0, 0", expect = ACCEPTABLE, desc = "Both early frees came after the close and were refused.")
@Outcome(expect = FORBIDDEN, desc = "A block freed twice (the close threw), a free accepted after the close refused "
        + "one, another exception, or a segment still live after the close.")
@State
public class SharedArenaCloseVsFreeTest {
    private static final Heap HEAP = Heap.builder().name("jcstress-arena").build();

    private final Arena arena = HEAP.newSharedArena();
    /** Over a heap block of its own (more than a chunk carves), then carved from a chunk. */
    private final MemorySegment block = arena.allocate(8192, 16), carved = arena.allocate(64, 16);

    @Actor
    public void closer(IIII_Result r) {
        try {
            arena.close();
            r.r1 = 1;
        } catch (RuntimeException e) {
            r.r1 = 2;
        }
    }

    @Actor
    public void freer(IIII_Result r) {
        r.r2 = free(block);
        r.r3 = free(carved);
    }

    private static int free(MemorySegment segment) {
        try {
            HEAP.free(segment);
            return 1;
        } catch (InvalidFreeException e) {
            return 0;
        } catch (RuntimeException e) {
            return 2;
        }
    }

    @Arbiter
    public void arbiter(IIII_Result r) {
        int v = 0;
        if (((HeapArena) arena).liveSegments() != 0) v |= 1;
        if (block.scope().isAlive() || carved.scope().isAlive()) v |= 2;
        r.r4 = v;
    }
}
