package org.malloc4j.anchors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** jemalloc gives its free memory back however it is configured. */
class JemallocWithoutTcacheTest {
    /**
     * With its thread caches turned off ({@code MALLOC_CONF=tcache:false}, a setting of jemalloc's own), the
     * {@code thread.tcache.flush} control has nothing to flush and answers EFAULT: {@code releaseFreeMemory} threw
     * "jemalloc mallctl thread.tcache.flush: 14" (ending {@code malloc4j replay -a jemalloc} after its first trace)
     * and never purged the arenas.
     */
    @Test
    void releaseFreeMemoryWorksWithoutThreadCaches() throws Exception {
        assumeTrue(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu", NativeAllocator.Kind.JEMALLOC.library)),
                "jemalloc is not installed here (apt-get install libjemalloc2)");
        String out = ChildJvm.run(Release.class, Map.of("MALLOC_CONF", "tcache:false"));
        assumeTrue(!out.startsWith("jemalloc skipped"), out);
        assertThat(out).isEqualTo("released");
    }

    /** The child: opens jemalloc, frees a block, gives the free memory back. */
    static final class Release {
        public static void main(String[] args) {
            NativeAllocator.Result r = NativeAllocator.open(NativeAllocator.Kind.JEMALLOC);
            if (r.allocator() == null) {
                System.out.println(r.skipReason());
                return;
            }
            r.allocator().free(r.allocator().malloc(100));
            r.allocator().releaseFreeMemory();
            System.out.println("released");
        }
    }
}
