package org.malloc4j.cli.replay;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.malloc4j.cli.replay.FaultyAllocator.Fault;
import org.malloc4j.cli.trace.Trace;
import org.malloc4j.cli.trace.TraceBuilder;

/** The checked pass catches each kind of allocator bug, counts every occurrence, and keeps going. */
class CheckedPassTest {
    /** 3,000 ops: allocs of 0-2000 bytes, frees and reallocs, over 200 ids, with blocks left live at the end. */
    static Trace trace() {
        SplittableRandom r = new SplittableRandom(11);
        TraceBuilder b = new TraceBuilder("t", 200, 3_000, 0);
        long[] size = new long[200];
        while (b.count() < 3_000) {
            int id = r.nextInt(200);
            if (!b.isLive(id)) b.alloc(id, size[id] = r.nextLong(2_000));
            else if (r.nextBoolean()) b.realloc(id, size[id] = 1 + r.nextLong(4_000));
            else b.free(id);
        }
        return b.build();
    }

    private static ReplayResult replay(Fault fault) {
        return new ReplayDriver("faulty", () -> new FaultyAllocator(fault, 97, 64L << 20), 1).replay(trace());
    }

    @Test
    void correctAllocatorHasNoErrors() {
        ReplayResult r = replay(Fault.NONE);
        assertThat(r.firstErrors()).isEmpty();
        assertThat(r.errors()).isZero();
        assertThat(r.peakCommittedBytes()).isEqualTo(-1);
        assertThat(r.utilization()).isNaN();
        assertThat(r.nsPerOp()).isPositive();
    }

    @ParameterizedTest
    @EnumSource(value = Fault.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void eachFaultIsCaughtAndCounted(Fault fault) {
        ReplayResult r = replay(fault);
        assertThat(r.errors()).as(fault.name()).isGreaterThan(1);
        assertThat(r.firstErrors()).hasSize((int) Math.min(r.errors(), ReplayErrors.KEPT));
        String expected = switch (fault) {
            case OVERLAP -> "overlaps live block";
            case REALLOC_FORGETS -> "differs from its pattern after realloc from 0x";
            case SCRIBBLE -> "differs from its pattern";
            case MISALIGN -> "-byte aligned";
            case NULL -> "malloc returned NULL";
            case NONE -> throw new AssertionError();
        };
        assertThat(r.firstErrors()).anySatisfy(m -> assertThat(m).contains(expected));
        assertThat(r.firstErrors()).allSatisfy(m -> assertThat(m).startsWith("t "));
        assertThat(r.firstErrors().getFirst()).matches("t (op \\d+|at the end)[ :].*");
    }
}
