package org.malloc4j.arrow.bench;

import static org.assertj.core.api.Assertions.assertThatCode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Keeps the benchmark's main class working: a small run on malloc4j and on Arrow's Unsafe manager. */
class ArrowWorkloadTest {
    @ParameterizedTest
    @ValueSource(strings = {"malloc4j", "unsafe"}) // Netty needs its own JVM flags: scripts/arrow-bench.sh
    void aSmallRunChecksEveryValueAndLeaksNothing(String manager) {
        assertThatCode(() -> ArrowWorkload.main(new String[] {
                "--manager", manager, "--rows", "20000", "--batch-rows", "3000", "--runs", "2", "--warmup", "1"}))
                .doesNotThrowAnyException();
    }

    @Test
    void batchesOfOneRowFitTheStream() {
        // Each IPC batch carries a few hundred bytes of message framing: with tiny batches that, not the rows, fills
        // the stream's array.
        assertThatCode(() -> ArrowWorkload.main(new String[] {
                "--manager", "unsafe", "--rows", "5000", "--batch-rows", "1", "--runs", "1", "--warmup", "0"}))
                .doesNotThrowAnyException();
    }
}
