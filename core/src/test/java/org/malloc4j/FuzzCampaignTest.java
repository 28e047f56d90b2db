package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fuzz campaign ({@link FuzzCampaign}) as a test: every configuration (FAST and CHECKED; one, two and
 * three threads; limits of a page to a few MiB; reservations of 16 MiB to 256 MiB; page gathering) with a fixed list
 * of seeds. {@code -Dmalloc4j.campaign.ops=N} sets the operations per configuration and seed (default 3,000: about a
 * minute in all on a busy 2-core machine); nightly-size runs use {@code FuzzCampaign.main}.
 */
class FuzzCampaignTest {
    static final long OPS = Long.getLong("malloc4j.campaign.ops", 3_000);
    static final long[] SEEDS = {1, 2, 100, 400, 500};

    static Stream<Arguments> cases() {
        return FuzzCampaign.CONFIGS.keySet().stream()
                .flatMap(c -> java.util.Arrays.stream(SEEDS).mapToObj(s -> Arguments.of(c, s)));
    }

    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("cases")
    void survivesHostileSequences(String config, long seed) throws Exception {
        long ops = FuzzCampaign.run(FuzzCampaign.CONFIGS.get(config), seed, OPS);
        assertThat(ops).as("operations run").isGreaterThanOrEqualTo(OPS / 2);
    }
}
