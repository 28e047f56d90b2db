package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * {@code verify()} and {@code leaks()} of a CHECKED heap racing {@code close()}: both are operations of the heap's
 * MXBean, which a JMX client calls from a thread of its own, and must end with the IllegalStateException of a closed
 * heap. They read the live blocks' headers and red zones outside the page lock, and a close() that unmapped the heap
 * meanwhile killed the JVM (SIGSEGV). Run in a child JVM, since the failure is a crash.
 */
class CheckedWalksRacingCloseTest {

    /** Child JVM: rounds of verify() or leaks() in a loop on another thread while the main thread closes the heap. */
    public static void main(String[] args) throws Exception {
        int rounds = Integer.parseInt(args[0]);
        for (int r = 0; r < rounds; r++) {
            Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build();
            for (int i = 0; i < 20_000; i++) heap.malloc(64); // live at close: what the walks read
            boolean verify = r % 2 == 0;
            AtomicBoolean started = new AtomicBoolean();
            Thread monitor = Thread.ofPlatform().start(() -> {
                while (true) {
                    try {
                        if (verify) heap.verify();
                        else heap.leaks();
                        started.set(true);
                    } catch (IllegalStateException closed) {
                        return; // what a call that meets close() ends with
                    }
                }
            });
            while (!started.get()) Thread.onSpinWait();
            heap.close();
            monitor.join();
        }
        System.out.println("survived " + rounds + " rounds");
        System.exit(0);
    }

    @Test
    void verifyAndLeaksRacingCloseThrowInsteadOfCrashing() throws Exception {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        File log = File.createTempFile("checked-walks-close-child", ".log");
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Xmx1g",
                "-Djava.util.logging.config.file=/dev/null", // the leak warnings of each close
                "-XX:ErrorFile=" + System.getProperty("java.io.tmpdir") + "/checked-walks-crash-%p.log",
                "-cp", System.getProperty("java.class.path"), CheckedWalksRacingCloseTest.class.getName(), "20")
                .redirectErrorStream(true).redirectOutput(log).start();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly().waitFor();
        String out = Files.readString(log.toPath(), StandardCharsets.UTF_8);
        log.delete();
        assertThat(done).as("child finished within 120 s; output:\n" + out).isTrue();
        assertThat(p.exitValue()).as("child JVM exit (134 = SIGSEGV abort); output:\n" + out).isZero();
        assertThat(out).contains("survived 20 rounds");
    }
}
