package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The heap on a runtime image with {@code java.base} alone, as a program on the class path can have it (a
 * {@code jlink} of a few modules): JFR events and the MBean are optional, so every path that would emit one (a large
 * block, a purge, exhaustion, a leak report at close) still works, and asking for the MBean says why it cannot be.
 * Run in a child JVM started with {@code --limit-modules java.base}.
 */
class MinimalRuntimeTest {

    @Test
    void theHeapRunsWithoutJfrAndJmx() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = location(Heap.class) + File.pathSeparator + location(Probe.class);
        Process child = new ProcessBuilder(java, "--limit-modules", "java.base", "--enable-native-access=ALL-UNNAMED",
                "-cp", classPath, Probe.class.getName()).redirectErrorStream(true).start();
        boolean ended = child.waitFor(120, TimeUnit.SECONDS);
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!ended) child.destroyForcibly();
        assertThat(ended).as("the child JVM ended").isTrue();
        assertThat(output).contains("probe: ok").doesNotContain("NoClassDefFoundError");
        assertThat(child.exitValue()).as(output).isZero();
    }

    private static String location(Class<?> c) throws Exception {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    /** What the child JVM runs: each heap path that meets JFR or JMX, with neither module present. */
    public static final class Probe {
        public static void main(String[] args) {
            check(ModuleLayer.boot().findModule("jdk.jfr").isEmpty(), "jdk.jfr is absent");
            check(ModuleLayer.boot().findModule("java.management").isEmpty(), "java.management is absent");
            try (Heap heap = Heap.builder().largeAllocationEvent(1 << 20).decay(java.time.Duration.ZERO).build()) {
                long small = heap.malloc(100);
                long large = heap.malloc(8 << 20); // a LargeAllocation event, were JFR here
                heap.free(large);
                heap.trim(); // a Purge event
                heap.free(small);
                check(heap.stats().liveBytes() == 0, "stats work: " + heap.stats());
            }
            try (Heap limited = Heap.builder().limit(1 << 20).jmx(false).build()) {
                try {
                    limited.malloc(4 << 20); // a HeapExhausted event
                    check(false, "the limit holds");
                } catch (HeapExhaustedException expected) {
                    check(expected.getMessage().contains("limit"), "exhaustion names the limit: " + expected);
                }
            }
            Heap leaky = Heap.builder().trackSites(1).failOnLeak(true).build();
            long kept = leaky.malloc(64);
            try {
                leaky.close(); // a Leak event
                check(false, "a leak fails close");
            } catch (HeapLeakException expected) {
                check(expected.report().entries().getFirst().addresses().contains(kept), "the leak is reported");
            }
            try {
                Heap.builder().jmx(true).build().close();
                check(false, "jmx(true) is refused");
            } catch (UnsupportedOperationException expected) {
                check(expected.getMessage().contains("java.management"), "the refusal names the module");
            }
            System.out.println("probe: ok");
        }

        private static void check(boolean ok, String what) {
            if (!ok) throw new AssertionError("probe: " + what);
        }
    }
}
