package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Test;

/**
 * Findings that reach the program through JMX and JFR, which no test read there: the MBean's {@code verify()} of a
 * CHECKED heap lists its damaged blocks, and a segment dropped while its block was live is a JFR
 * {@code org.malloc4j.Leak} of kind {@code unreachable} whose fields and report (with the allocation site) are right.
 */
class DiagnosticsReachTheirChannelsTest {

    @Test
    void theMBeansVerifyListsTheDamagedBlocksOfACheckedHeap() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try (Heap heap = Heap.builder().name("diag-verify").mode(HeapMode.CHECKED).trackSites(1).jmx(true).build()) {
            ObjectName name = new ObjectName("org.malloc4j:type=Heap,name=\"diag-verify\"");
            long p = overflowed(heap);
            long q = heap.malloc(100);
            assertThat(server.getAttribute(name, "Mode")).isEqualTo("CHECKED");
            String[] damage = (String[]) server.invoke(name, "verify", null, null);
            assertThat(damage).singleElement().asString()
                    .startsWith("block 0x" + Long.toHexString(p) + " (40 bytes): overflow")
                    .contains("overflowed");
            assertThat(List.of(damage)).isEqualTo(heap.verify().stream().map(HeapDamage::toString).toList());
            heap.free(q);
            try {
                heap.free(p);
            } catch (HeapCorruptionException expected) {
                // the overflow, found again by the free, which frees the block
            }
            assertThat((String[]) server.invoke(name, "verify", null, null)).isEmpty();
        }
    }

    private static long overflowed(Heap heap) {
        long p = heap.malloc(40);
        Blocks.ALL.set(ValueLayout.JAVA_BYTE, p + 40, (byte) ~Blocks.ALL.get(ValueLayout.JAVA_BYTE, p + 40));
        return p;
    }

    @Test
    void anUnreachableSegmentIsAJfrLeakWithItsFieldsAndSite() throws Exception {
        for (HeapMode mode : HeapMode.values()) {
            String heapName = "diag-unreachable-" + mode;
            boolean reclaim = mode == HeapMode.FAST; // both settings of reclaimLeaks, one in each mode
            List<RecordedEvent> seen = new CopyOnWriteArrayList<>();
            try (RecordingStream rs = new RecordingStream()) {
                rs.setReuse(false);
                rs.enable("org.malloc4j.Leak");
                rs.onEvent("org.malloc4j.Leak", e -> {
                    if (heapName.equals(e.getString("heap"))) seen.add(e);
                });
                rs.startAsync();
                try (Heap heap = Heap.builder().name(heapName).mode(mode).trackSites(1).reclaimLeaks(reclaim)
                        .jmx(false).build()) {
                    dropASegment(heap);
                    // The cleaner reports the block on its own thread: collect until the heap has seen it go (the
                    // reclaiming heap frees it, the other one keeps it, so its report is awaited through the leaks'
                    // JFR event itself, which the stream delivers, in a few flushes, after the report was made)
                    long deadline = System.nanoTime() + 30_000_000_000L;
                    while (seen.isEmpty() && System.nanoTime() < deadline) {
                        System.gc();
                        Thread.onSpinWait();
                        Thread.yield();
                    }
                    if (!reclaim) heap.free(heap.leaks().entries().getFirst().addresses().getFirst());
                }
                assertThat(rs.stop()).isTrue();
            }
            assertThat(seen).as(mode.toString()).filteredOn(e -> e.getString("kind").equals("unreachable"))
                    .singleElement().satisfies(e -> {
                        assertThat(e.getLong("blocks")).isEqualTo(1);
                        assertThat(e.getLong("bytes")).isEqualTo(1234);
                        assertThat(e.getBoolean("reclaimed")).isEqualTo(reclaim);
                        assertThat(e.getString("report")).contains("became unreachable while the block was live")
                                .contains("dropASegment");
                    });
            assertThat(seen).as(mode + ": nothing live at close").noneMatch(e -> e.getString("kind").equals("close"));
        }
    }

    private static void dropASegment(Heap heap) {
        MemorySegment s = heap.allocate(1234);
        s.fill((byte) 1);
    }
}
