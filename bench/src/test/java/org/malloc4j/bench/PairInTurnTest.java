package org.malloc4j.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@link PairInTurn} takes only anchors it can run at their best. */
class PairInTurnTest {
    /**
     * Its pairs run on the main thread, a plain thread: Netty recycles no ByteBuf there and, without the benchmarks'
     * flags, caches nothing per thread. LarsonScaling and XmallocInTurn refuse Netty for this; PairInTurn ran it.
     */
    @Test
    void nettysAllocatorsAreRefusedWithTheReason() {
        assertThat(PairInTurn.refusal("nettyPooled")).contains("FastThreadLocalThread", "PairBenchmark");
        assertThat(PairInTurn.refusal("nettyAdaptive")).contains("FastThreadLocalThread", "PairBenchmark");
    }

    @Test
    void theNativeAnchorsArenaAndTheDiagnosticSubjectsAreTaken() {
        for (String name : new String[] {"glibc", "jemalloc", "mimalloc", "tcmalloc", "arena", "floor",
                "malloc4jChecked", "malloc4jSites"}) {
            assertThat(PairInTurn.refusal(name)).as(name).isNull();
        }
        assertThat(PairInTurn.refusal("malloc4j")).contains("another allocator than malloc4j");
    }
}
