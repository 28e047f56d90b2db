package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
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
        String out = ChildJvm.runToSuccess(CheckedWalksRacingCloseTest.class, 120,
                List.of("-Xmx1g", "-Djava.util.logging.config.file=/dev/null"), "20"); // no leak warning a close
        assertThat(out).contains("survived 20 rounds");
    }
}
