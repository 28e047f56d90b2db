package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;

/**
 * The figures of the JFR events and the MXBean, read back from real recordings (jdk.jfr.Recording dumped to a file,
 * read with RecordingFile) and from the platform MBean server, against what the heap says: purges' bytes are the
 * committed bytes that went down, a refusal's event carries its message's figures (free bytes counted as stats()
 * counts them), large allocations are the program's blocks in both modes, the MBean's attributes are stats().
 */
class MonitoringFiguresTest {

    /** A recording of one event type in this JVM, dumped to a file and read back; the file is deleted on close. */
    private static final class Recorded implements AutoCloseable {
        private final Recording recording = new Recording();
        private final String type;
        private final Path file;

        /** Starts recording the events of {@code type}. */
        Recorded(String type) throws java.io.IOException {
            this.type = type;
            this.file = Files.createTempFile("malloc4j-figures", ".jfr");
            recording.enable(type);
            recording.start();
        }

        /** Stops the recording; @return its events of heap {@code heap} */
        List<RecordedEvent> stop(String heap) throws Exception {
            recording.stop();
            recording.dump(file);
            return RecordingFile.readAllEvents(file).stream()
                    .filter(e -> e.getEventType().getName().equals(type) && heap.equals(e.getString("heap"))).toList();
        }

        @Override
        public void close() throws java.io.IOException {
            recording.close();
            Files.deleteIfExists(file);
        }
    }

    @Test
    void purgeBytesAreTheCommittedBytesThatWentDown() throws Exception {
        try (Heap h = Heap.builder().name("figures-purge").decay(Duration.ofHours(1)).jmx(false).build()) {
            long a = h.malloc(3 << 20), b = h.malloc(300_000), c = h.malloc(5000);
            long[] small = new long[2000];
            for (int i = 0; i < small.length; i++) small[i] = h.malloc(100);
            h.free(a);
            h.free(b);
            for (long s : small) h.free(s);
            long before = h.stats().committedBytes();
            List<RecordedEvent> ev;
            try (Recorded r = new Recorded("org.malloc4j.Purge")) {
                h.trim();
                ev = r.stop("figures-purge");
            }
            long after = h.stats().committedBytes();
            assertThat(ev.stream().mapToLong(e -> e.getLong("bytes")).sum()).isEqualTo(before - after);
            h.free(c);
        }
    }

    @Test
    void decayZeroPurgeBytes() throws Exception {
        try (Heap h = Heap.builder().name("figures-purge0").decay(Duration.ZERO).jmx(false).build()) {
            long keep = h.malloc(100);
            long before = h.stats().committedBytes();
            long a;
            try (Recorded r = new Recorded("org.malloc4j.Purge")) {
                a = h.malloc(3 << 20);
                long mid = h.stats().committedBytes();
                h.free(a);
                long after = h.stats().committedBytes();
                List<RecordedEvent> ev = r.stop("figures-purge0");
                assertThat(ev.stream().mapToLong(e -> e.getLong("bytes")).sum()).isEqualTo(mid - after);
            }
            h.free(keep);
        }
    }

    @Test
    void exhaustionEventMatchesMessage() throws Exception {
        for (HeapMode mode : HeapMode.values()) {
            String name = "figures-exh-" + mode;
            try (Heap h = Heap.builder().name(name).mode(mode).limit(8L << 20).decay(Duration.ofHours(1)).jmx(false)
                    .build()) {
                long a = h.malloc(300_001), b = h.malloc(1 << 20), c = h.malloc(2 << 20);
                h.free(b);
                HeapExhaustedException ex = null;
                List<RecordedEvent> ev;
                try (Recorded r = new Recorded("org.malloc4j.HeapExhausted")) {
                    try {
                        h.malloc(7L << 20);
                    } catch (HeapExhaustedException e) {
                        ex = e;
                    }
                    ev = r.stop(name);
                }
                assertThat(ev).hasSize(1);
                RecordedEvent e = ev.get(0);
                assertThat(e.getLong("request")).isEqualTo(7L << 20);
                assertThat(ex).as(mode.toString()).isNotNull();
                String m = ex.getMessage();
                assertThat(m).contains("limit " + e.getLong("limit") + " bytes", "committed " + e.getLong("committed"),
                        "live " + e.getLong("live") + " bytes", "free " + e.getLong("freeBytes") + " bytes committed",
                        "largest free block " + e.getLong("largestFreeBlock") + " bytes");
                HeapStats t = h.stats();
                assertThat(e.getLong("live")).isEqualTo(t.liveBytes());
                assertThat(e.getLong("committed")).isEqualTo(t.committedBytes());
                assertThat(e.getLong("freeBytes")).isEqualTo(t.freeBytes());
                h.free(a);
                h.free(c);
            }
        }
    }

    /**
     * A request too large for any heap (above the 256 TiB a CHECKED header holds), by malloc and by a realloc that
     * would move a live block: its event carries its message's figures in both modes, free bytes counted as stats()
     * counts them. CHECKED told JFR its adjusted figures (red zones out of free, the moving block out of live) under
     * the engine's message (red zones in free, the moving block in live): "free 7224" against an event's 7160.
     */
    @Test
    void impossibleRequestEventMatchesMessage() throws Exception {
        for (HeapMode mode : HeapMode.values()) {
            String name = "figures-huge-" + mode;
            try (Heap h = Heap.builder().name(name).mode(mode).decay(Duration.ofHours(1)).jmx(false).build()) {
                long a = h.malloc(300_001), b = h.malloc(1000);
                for (boolean realloc : new boolean[] {false, true}) {
                    HeapExhaustedException ex = null;
                    List<RecordedEvent> ev;
                    try (Recorded r = new Recorded("org.malloc4j.HeapExhausted")) {
                        try {
                            if (realloc) h.realloc(b, 1L << 50);
                            else h.malloc(1L << 50);
                        } catch (HeapExhaustedException e) {
                            ex = e;
                        }
                        ev = r.stop(name);
                    }
                    String as = mode + (realloc ? " realloc" : " malloc");
                    assertThat(ex).as(as).isNotNull();
                    assertThat(ev).as(as).hasSize(1);
                    RecordedEvent e = ev.get(0);
                    assertThat(e.getLong("request")).as(as).isEqualTo(1L << 50);
                    assertThat(ex.getMessage()).as(as).contains("committed " + e.getLong("committed"),
                            "live " + e.getLong("live") + " bytes", "free " + e.getLong("freeBytes") + " bytes committed",
                            "largest free block " + e.getLong("largestFreeBlock") + " bytes");
                    HeapStats t = h.stats(); // the block stays: the same figures after the refusal
                    assertThat(e.getLong("live")).as(as).isEqualTo(t.liveBytes());
                    assertThat(e.getLong("freeBytes")).as(as).isEqualTo(t.freeBytes());
                }
                h.free(a);
                h.free(b);
            }
        }
    }

    @Test
    void mbeanAttributesEqualStats() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        for (HeapMode mode : HeapMode.values()) {
            String hn = "figures-mbean-" + mode;
            Heap h = Heap.builder().name(hn).mode(mode).decay(Duration.ofHours(1)).jmx(true).build();
            ObjectName name = new ObjectName("org.malloc4j:type=Heap,name=" + ObjectName.quote(hn));
            long a = h.malloc(3 << 20), b = h.malloc(300_001), c = h.malloc(5000);
            h.free(b);
            for (var comp : HeapStats.class.getRecordComponents()) {
                String attr = Character.toUpperCase(comp.getName().charAt(0)) + comp.getName().substring(1);
                Object v = server.getAttribute(name, attr);
                Object expected = comp.getAccessor().invoke(h.stats()); // quiescent: the same figures
                if (!attr.equals("ResidentBytes")) assertThat(v).as(mode + " " + attr).isEqualTo(expected);
            }
            server.invoke(name, "trim", null, null);
            assertThat(h.stats().retainedBytes()).isZero();
            h.free(a);
            h.free(c);
            h.close();
            assertThat(server.isRegistered(name)).isFalse();
        }
    }

    @Test
    void purgesOnTheWayToARefusal() throws Exception {
        for (HeapMode mode : HeapMode.values()) {
            String name = "figures-exhp-" + mode;
            try (Heap h = Heap.builder().name(name).mode(mode).limit(8L << 20).decay(Duration.ofHours(1)).jmx(false)
                    .build()) {
                long a = h.malloc(300_001), b = h.malloc(1 << 20), c = h.malloc(2 << 20);
                long[] small = new long[3000];
                for (int i = 0; i < small.length; i++) small[i] = h.malloc(200);
                for (long x : small) h.free(x);
                h.free(b);
                long before = h.stats().committedBytes();
                List<RecordedEvent> ev;
                try (Recorded r = new Recorded("org.malloc4j.Purge")) {
                    try {
                        h.malloc(7L << 20);
                    } catch (HeapExhaustedException e) {
                        // expected: the purges on the way are what is looked at
                    }
                    ev = r.stop(name);
                }
                long after = h.stats().committedBytes();
                assertThat(ev.stream().mapToLong(e -> e.getLong("bytes")).sum()).isEqualTo(before - after);
                h.free(a);
                h.free(c);
            }
        }
    }

    @Test
    void largeEventsAreTheProgramsBlocks() throws Exception {
        for (HeapMode mode : HeapMode.values()) {
            String name = "figures-large-" + mode;
            java.util.List<String> expected = new java.util.ArrayList<>();
            List<RecordedEvent> ev;
            try (Heap h = Heap.builder().name(name).mode(mode).largeAllocationEvent(1 << 20).decay(Duration.ofHours(1))
                    .jmx(false).build()) {
                try (Recorded r = new Recorded("org.malloc4j.LargeAllocation")) {
                    long a = h.malloc((1 << 20) + 5);
                    expected.add(a + " " + ((1 << 20) + 5));
                    long b = h.calloc(1, (2 << 20) + 7);
                    expected.add(b + " " + ((2 << 20) + 7));
                    long c = h.alignedAlloc(1 << 21, (1 << 20) + 9);
                    expected.add(c + " " + ((1 << 20) + 9));
                    long d = h.malloc(1000);
                    long d2 = h.realloc(d, 3 << 20);
                    expected.add(d2 + " " + (3 << 20));
                    try (java.lang.foreign.Arena arena = h.newArena()) {
                        var seg = arena.allocate((1 << 20) + 11, 64);
                        expected.add(seg.address() + " " + ((1 << 20) + 11));
                    }
                    h.free(a);
                    h.free(b);
                    h.free(c);
                    h.free(d2);
                    ev = r.stop(name);
                }
            }
            assertThat(ev).as(mode.toString()).extracting(e -> e.getLong("address") + " " + e.getLong("size"))
                    .containsExactlyElementsOf(expected);
        }
    }

    @Test
    void leakAtClose() throws Exception {
        for (HeapMode mode : HeapMode.values()) {
            String name = "figures-leak-" + mode;
            List<RecordedEvent> ev;
            try (Recorded r = new Recorded("org.malloc4j.Leak")) {
                Heap h = Heap.builder().name(name).mode(mode).jmx(true).build();
                h.malloc(777);
                h.free(h.malloc(5000));
                h.malloc(300_001);
                h.close();
                ev = r.stop(name);
            }
            assertThat(ev).singleElement().satisfies(e -> {
                assertThat(e.getLong("blocks")).isEqualTo(2);
                assertThat(e.getLong("bytes")).isEqualTo(777 + 300_001);
                assertThat(e.getString("kind")).isEqualTo("close");
            });
        }
    }
}
