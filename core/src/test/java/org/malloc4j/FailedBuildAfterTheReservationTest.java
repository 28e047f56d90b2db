package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.malloc4j.internal.HeapCore;

/**
 * A build that fails after the heap's core reserved its range (registering the heap's MBean, the last step) gives back
 * what the core took: its range and page map, its place among the open heaps that the purger thread walks, and its
 * label, which a later heap of the same name would otherwise find taken. The MBean server here cannot be made: the
 * process names an MBean server builder that does not exist ({@code javax.management.builder.initial}, a setting of
 * the JVM, or an agent's), so that {@code jmx(true)} throws when it asks for the platform server. Before the fix that
 * heap's 1 TiB range stayed mapped and in the open heaps for good, with nothing left to close it by.
 */
class FailedBuildAfterTheReservationTest {
    private static final long RESERVE = 1L << 40;

    @Test
    void aHeapWhoseMBeanCannotBeRegisteredGivesBackWhatItTook() throws Exception {
        String out = ChildJvm.runToSuccess(Probe.class, 120,
                List.of("-Xmx64m", "-Djavax.management.builder.initial=org.malloc4j.NoSuchMBeanServerBuilder"));
        assertThat(out).as(out).contains("threw: javax.management.JMRuntimeException");
        long kept = Long.parseLong(out.replaceAll("(?s).*kept: (-?\\d+).*", "$1"));
        assertThat(kept).as("address space the failed build kept (%s)", out).isLessThan(RESERVE / 2);
        assertThat(out).as(out).contains("open heaps: 0").contains("label of the next heap: refused-heap\n");
    }

    /** What the child JVM runs: one build that fails at its MBean, then one without JMX of the same name. */
    public static final class Probe {
        public static void main(String[] args) throws Exception {
            long before = vmSize();
            Throwable thrown = null;
            try {
                Heap.builder().name("refused-heap").reserve(RESERVE).jmx(true).build().close();
            } catch (Throwable t) {
                thrown = t;
            }
            System.out.println("threw: " + thrown);
            System.out.println("kept: " + (vmSize() - before));
            System.out.println("open heaps: " + ((List<?>) Internals.field(null, HeapCore.class, "OPEN")).size());
            try (Heap heap = Heap.builder().name("refused-heap").jmx(false).build()) {
                System.out.println("label of the next heap: " + MemoryReturnEdgeCasesTest.core(heap).label());
            }
        }

        private static long vmSize() throws Exception {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmSize:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
            throw new AssertionError("no VmSize in /proc/self/status");
        }
    }
}
