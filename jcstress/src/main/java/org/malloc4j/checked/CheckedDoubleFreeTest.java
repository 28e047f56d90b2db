package org.malloc4j.checked;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.malloc4j.Heap;
import org.malloc4j.HeapMode;
import org.malloc4j.InvalidFreeException;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * Two threads free the same block of a CHECKED heap at once. The block's quarantine stripe lock decides: exactly
 * one free marks the header FREED and quarantines the block, the other is rejected as a double free. Were the two
 * frees to both succeed, the block would sit in quarantine twice and be given back to the engine twice, possibly
 * after it was handed out again. The subtle case: one free reads the header, stalls while the other frees the block
 * and the quarantine cycles it back to the engine and into a new state at the same address with the same size; the
 * header's generation (see {@code RedZones}) makes the stale free's compare-and-set fail. Without the generation this
 * test saw both frees succeed in 0.04-0.07% of samples once the quarantine cycled fast enough.
 *
 * <p>One heap for all states (a heap per state would reserve address space for each of the many thousands a run
 * makes); each state frees its own fresh block. r1, r2: each thread's free succeeded; r3: 1 when the arbiter's
 * {@code usableSize} of the block was refused, as it must be once the block is freed.
 */
@JCStressTest
@Description("Two threads free the same CHECKED block concurrently: exactly one succeeds.")
@Outcome(id = "1, 0, 1", expect = ACCEPTABLE, desc = "The first thread's free won; the second was rejected.")
@Outcome(id = "0, 1, 1", expect = ACCEPTABLE, desc = "The second thread's free won; the first was rejected.")
@Outcome(id = "1, 1, .*", expect = FORBIDDEN, desc = "Both frees accepted: a double free went unreported.")
@Outcome(id = "0, 0, .*", expect = FORBIDDEN, desc = "Both frees rejected: a live block could not be freed.")
@Outcome(expect = FORBIDDEN, desc = "The block still reads as live after a free succeeded.")
@State
public class CheckedDoubleFreeTest {
    /** The default quarantine (16 MiB): a block stays in it far longer than a batch of states takes to run. */
    private static final Heap HEAP = Heap.builder().name("jcstress-checked").mode(HeapMode.CHECKED).build();

    private final long block = HEAP.malloc(48);

    @Actor
    public void first(III_Result r) {
        r.r1 = free();
    }

    @Actor
    public void second(III_Result r) {
        r.r2 = free();
    }

    private int free() {
        try {
            HEAP.free(block);
            return 1;
        } catch (InvalidFreeException e) {
            return 0;
        }
    }

    @Arbiter
    public void arbiter(III_Result r) {
        try {
            HEAP.usableSize(block);
            r.r3 = 0;
        } catch (InvalidFreeException e) {
            r.r3 = 1;
        }
    }
}
