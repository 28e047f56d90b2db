package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A build that fails after the heap reserved address space gives it back, and says what was refused. Each test runs
 * a child JVM whose address space limit ({@code RLIMIT_AS}, set with {@code setrlimit}) leaves room for part of what
 * the process's first build maps: the heap's range, its page map (a second mapping, 1/128 of the range) and the purger
 * thread's stack.
 */
class FailedBuildGivesBackItsAddressSpaceTest {
    private static final long RESERVE = 16L << 30;

    /**
     * Room for the range and the page map, not for the purger's stack: the build reserves both, then cannot start the
     * thread. Before the fix both mappings stayed in the process (16 GiB and 128 MiB of address space), with a heap in
     * the purger's list that nobody could close, and every later build under the limit failed too.
     */
    @Test
    void aBuildThatCannotStartThePurgerUnmapsTheHeapAndItsPageMap() throws Exception {
        // Both reservations fit (the range's alignment slack is trimmed before the page map is reserved), with
        // 256 KiB to spare: less than a thread's stack
        String output = runProbe(RESERVE + (RESERVE >> 7) + 4096 + (256 << 10));
        assertThat(output).as("the build under the limit failed").contains("threw: java.lang.OutOfMemoryError");
        long kept = Long.parseLong(output.replaceAll("(?s).*kept: (-?\\d+).*", "$1"));
        assertThat(kept).as("address space the failed build kept (%s)", output).isLessThan(RESERVE / 2);
        assertThat(output).contains("built again: ok");
    }

    /**
     * The page map's reservation refused (the heap's range fits the limit, its page map does not) is the same failure
     * as the range's own: a {@link HeapExhaustedException} naming the heap and the bytes, which a program that builds
     * a smaller heap when its reservation is refused catches. Before the fix a bare OutOfMemoryError ("cannot reserve
     * 134217728 bytes for page metadata") that named no heap.
     */
    @Test
    void aRefusedPageMapReservationIsAHeapExhaustedExceptionNamingTheHeap() throws Exception {
        String output = runProbe(RESERVE + (4 << 20) + (RESERVE >> 8));
        assertThat(output).contains("threw: org.malloc4j.HeapExhaustedException: cannot reserve 134217728 bytes of")
                .contains("heap probe-heap").as("the kernel's reason: ENOMEM").contains("(mmap: errno 12)");
        long kept = Long.parseLong(output.replaceAll("(?s).*kept: (-?\\d+).*", "$1"));
        assertThat(kept).as("address space the failed build kept (%s)", output).isLessThan(RESERVE / 2);
        assertThat(output).contains("built again: ok");
    }

    /** @return the output of {@link Probe} run in a child JVM whose address space may grow by {@code room} bytes */
    private static String runProbe(long room) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = location(Heap.class) + File.pathSeparator + location(Probe.class);
        Process child = new ProcessBuilder(java, "-Xmx64m", "-Xss1m", "-XX:+UseSerialGC",
                "-XX:-UseDynamicNumberOfCompilerThreads", "--enable-native-access=ALL-UNNAMED", "-cp", classPath,
                Probe.class.getName(), Long.toString(room)).redirectErrorStream(true).start();
        boolean ended = child.waitFor(120, TimeUnit.SECONDS);
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!ended) child.destroyForcibly();
        assertThat(ended).as("the child JVM ended").isTrue();
        assertThat(child.exitValue()).as(output).isZero();
        return output;
    }

    private static String location(Class<?> c) throws Exception {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    /**
     * What the child JVM runs: the process's first build, under an address space limit ({@code args[0]} bytes more
     * than the process has), then one without.
     */
    public static final class Probe {
        private static final int RLIMIT_AS = 9;

        public static void main(String[] args) throws Throwable {
            Linker linker = Linker.nativeLinker();
            FunctionDescriptor fd = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS);
            MethodHandle getrlimit = linker.downcallHandle(linker.defaultLookup().findOrThrow("getrlimit"), fd);
            MethodHandle setrlimit = linker.downcallHandle(linker.defaultLookup().findOrThrow("setrlimit"), fd);
            // The classes the build uses, loaded first: under the limit only the build's own mappings are tried
            for (Class<?> c : new Class<?>[] {Heap.class, Heap.Builder.class, HeapExhaustedException.class}) {
                Class.forName(c.getName(), true, c.getClassLoader());
            }
            for (String name : new String[] {"os.Os", "HeapCore", "page.PageHeap", "small.ThreadCaches",
                    "monitor.Monitoring"}) {
                Class.forName("org.malloc4j.internal." + name);
            }
            Throwable thrown = null;
            long before, after;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment limit = arena.allocate(16, 8);
                check((int) getrlimit.invokeExact(RLIMIT_AS, limit) == 0, "getrlimit");
                long soft = limit.get(ValueLayout.JAVA_LONG, 0);
                before = vmSize();
                limit.set(ValueLayout.JAVA_LONG, 0, before + Long.parseLong(args[0]));
                check((int) setrlimit.invokeExact(RLIMIT_AS, limit) == 0, "setrlimit");
                try {
                    Heap.builder().name("probe-heap").reserve(RESERVE).jmx(false).build().close();
                } catch (Throwable t) {
                    thrown = t;
                }
                limit.set(ValueLayout.JAVA_LONG, 0, soft);
                check((int) setrlimit.invokeExact(RLIMIT_AS, limit) == 0, "setrlimit back");
                after = vmSize();
            }
            System.out.println("threw: " + thrown);
            System.out.println("kept: " + (after - before));
            try (Heap heap = Heap.builder().reserve(RESERVE).jmx(false).build()) {
                heap.free(heap.malloc(1 << 20));
            }
            System.out.println("built again: ok");
        }

        private static long vmSize() throws Exception {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmSize:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
            throw new AssertionError("no VmSize in /proc/self/status");
        }

        private static void check(boolean ok, String what) {
            if (!ok) throw new AssertionError("probe: " + what + " failed");
        }
    }
}
