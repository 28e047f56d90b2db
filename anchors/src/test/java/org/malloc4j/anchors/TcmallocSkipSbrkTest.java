package org.malloc4j.anchors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * tcmalloc reads {@code TCMALLOC_SKIP_SBRK} as gperftools reads every boolean variable: true when its value starts
 * with t, T, y, Y or 1 (or is empty). The anchor took only {@code true}, and refused a tcmalloc that would have run
 * without sbrk (with {@code TCMALLOC_SKIP_SBRK=1}, say) with "it needs TCMALLOC_SKIP_SBRK=true".
 */
class TcmallocSkipSbrkTest {
    @ParameterizedTest
    @ValueSource(strings = {"1", "yes", "TRUE", "t"})
    void everySpellingOfTrueThatTcmallocTakesOpensIt(String value) throws Exception {
        assumeTrue(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu", NativeAllocator.Kind.TCMALLOC.library)),
                "tcmalloc is not installed here (apt-get install libtcmalloc-minimal4)");
        assertThat(openInAChild(value)).isEqualTo("opened tcmalloc");
    }

    @ParameterizedTest
    @ValueSource(strings = {"false", "0", "no"})
    void aFalseValueIsStillRefusedWithTheReason(String value) throws Exception {
        assertThat(openInAChild(value)).contains("tcmalloc skipped: ", "TCMALLOC_SKIP_SBRK");
    }

    /** @return what {@link OpenTcmalloc} prints in a JVM whose environment has {@code TCMALLOC_SKIP_SBRK=value} */
    private static String openInAChild(String value) throws Exception {
        return ChildJvm.run(OpenTcmalloc.class, Map.of("TCMALLOC_SKIP_SBRK", value));
    }

    /** The child: opens tcmalloc, prints whether it opened or why not. */
    static final class OpenTcmalloc {
        public static void main(String[] args) {
            NativeAllocator.Result r = NativeAllocator.open(NativeAllocator.Kind.TCMALLOC);
            System.out.println(r.allocator() != null ? "opened tcmalloc" : r.skipReason());
        }
    }
}
