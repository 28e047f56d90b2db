package org.malloc4j.examples;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.malloc4j.Heap;
import org.malloc4j.HeapExhaustedException;
import org.junit.jupiter.api.Test;

class StringTableTest {

    @Test
    void internsLooksUpGrowsAndFreesEverything() {
        try (Heap heap = Heap.create()) {
            StringTable.Result r = StringTable.run(heap, 20_000);
            assertThat(r.added()).isEqualTo(20_000);
            assertThat(r.distinct()).isEqualTo(10_000);
            assertThat(r.roundTrips()).isEqualTo(10_000);
            // 8 ids at first, doubled up to 16384: 11 reallocs.
            assertThat(r.reallocs()).isEqualTo(11);
            // Full: 10,000 strings + the id array + the index, at least their bytes.
            assertThat(r.whileFull().liveBlocks()).isEqualTo(10_000 + 2);
            assertThat(r.whileFull().liveBytes()).isGreaterThan(10_000L * (4 + 9) + 16_384L * 8);
            assertThat(r.afterClose().liveBytes()).isZero();
            assertThat(r.afterClose().liveBlocks()).isZero();
        }
    }

    @Test
    void tableKeepsNonAsciiAndDistinguishesPrefixes() {
        try (Heap heap = Heap.create(); StringTable table = new StringTable(heap)) {
            int a = table.intern("chaîne");
            int b = table.intern("chaîne-2");
            int c = table.intern("");
            assertThat(table.intern("chaîne")).isEqualTo(a);
            assertThat(table.get(a)).isEqualTo("chaîne");
            assertThat(table.get(b)).isEqualTo("chaîne-2");
            assertThat(table.get(c)).isEmpty();
            assertThat(table.lookup("chaîn")).isEqualTo(-1);
            assertThat(table.size()).isEqualTo(3);
        }
    }

    /** A closed table's blocks are freed: using it is refused (it used to read address 0 and crash the JVM). */
    @Test
    void aClosedTableRefusesToBeUsed() {
        try (Heap heap = Heap.builder().jmx(false).build()) {
            StringTable table = new StringTable(heap);
            int id = table.intern("kept");
            table.close();
            table.close(); // a second close does nothing
            assertThatThrownBy(() -> table.get(id)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");
            assertThatThrownBy(() -> table.lookup("kept")).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> table.intern("new")).isInstanceOf(IllegalStateException.class);
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    @Test
    void aFailedGrowthOfTheIdArrayLeavesTheTableConsistentAndLeaksNothing() {
        try (Heap heap = Heap.builder().name("string-table-full").limit(8L << 20).build()) {
            List<Long> ballast = new ArrayList<>();
            try (StringTable table = new StringTable(heap)) {
                int n = 8192; // the id array is full at 8192 ids (64 KiB): the next intern must grow it to 128 KiB
                for (int i = 0; i < n; i++) table.intern(StringTable.word(i));
                String next = StringTable.word(n);
                int blockSize = 4 + next.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
                // Room for the next string's own block (kept in this thread's cache once freed), none for 128 KiB.
                long spare = heap.malloc(blockSize);
                try {
                    while (true) ballast.add(heap.malloc(64 * 1024));
                } catch (HeapExhaustedException full) {
                    // the heap is full, up to less than 64 KiB
                }
                heap.free(spare);

                long live = heap.stats().liveBlocks();
                assertThatThrownBy(() -> table.intern(next)).isInstanceOf(HeapExhaustedException.class);
                assertThat(heap.stats().liveBlocks()).as("no block left behind by the failed intern").isEqualTo(live);
                assertThat(table.size()).isEqualTo(n);
                assertThat(table.lookup(next)).isEqualTo(-1);

                growsOnWithRoomAgain(heap, table, ballast, n); // the heap stays usable
            } finally {
                for (long b : ballast) heap.free(b);
            }
            assertThat(heap.stats().liveBlocks()).isZero();
            assertThat(heap.stats().liveBytes()).isZero();
        }
    }

    @Test
    void aFailedGrowthOfTheIndexLeavesTheStringOutOfTheTable() {
        try (Heap heap = Heap.builder().name("string-table-index").limit(8L << 20).build()) {
            List<Long> ballast = new ArrayList<>();
            try (StringTable table = new StringTable(heap)) {
                int n = 8192; // 8192 ids fill the id array (64 KiB); the index has 16384 slots (64 KiB)
                for (int i = 0; i < n; i++) table.intern(StringTable.word(i));
                try {
                    while (true) ballast.add(heap.malloc(64 * 1024));
                } catch (HeapExhaustedException full) {
                    // Room for the id array's growth to 128 KiB, none for an index of 128 KiB after it.
                    heap.free(ballast.removeLast());
                    heap.free(ballast.removeLast());
                }
                String next = StringTable.word(n);
                assertThatThrownBy(() -> table.intern(next)).isInstanceOf(HeapExhaustedException.class);
                assertThat(table.size()).as("a failed intern adds nothing").isEqualTo(n);
                assertThat(table.lookup(next)).isEqualTo(-1);

                growsOnWithRoomAgain(heap, table, ballast, n);
            } finally {
                for (long b : ballast) heap.free(b);
            }
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    @Test
    void aTableThatCannotGetItsIndexFreesItsIdArray() {
        try (Heap heap = Heap.builder().name("string-table-new").limit(1L << 20).build()) {
            List<Long> ballast = new ArrayList<>();
            try {
                // Fill the heap: 64 KiB blocks, then (one of them given back) 64-byte ones, then give one of
                // those back. The id array (8 ids, 64 B) takes that block; the index (16 slots, 64 B) finds no room.
                try {
                    while (true) ballast.add(heap.malloc(64 * 1024));
                } catch (HeapExhaustedException full) {
                    heap.free(ballast.removeLast());
                }
                try {
                    while (true) ballast.add(heap.malloc(64));
                } catch (HeapExhaustedException full) {
                    heap.free(ballast.removeLast());
                }
                long live = heap.stats().liveBlocks();

                assertThatThrownBy(() -> new StringTable(heap)).isInstanceOf(HeapExhaustedException.class);
                assertThat(heap.stats().liveBlocks()).as("the id array is not left behind").isEqualTo(live);
            } finally {
                for (long b : ballast) heap.free(b);
            }
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    /** The figures main prints are the run's: every word read back, nothing live once the table is closed. */
    @Test
    void mainRuns() throws Throwable {
        String out = Stdout.of(() -> StringTable.main(new String[] {"1000"}));
        assertThat(out).contains("interned " + Stdout.n(1000) + " strings: " + Stdout.n(500) + " distinct",
                "read back " + Stdout.n(500) + " of " + Stdout.n(500) + " correctly");
        assertThat(out.lines().filter(l -> l.startsWith("after close:"))).singleElement().asString()
                .contains(" 0 live bytes in 0 blocks");
    }

    /** The ballast freed, the table of {@code n} words takes {@code n + 1} more, and every word reads back. */
    private static void growsOnWithRoomAgain(Heap heap, StringTable table, List<Long> ballast, int n) {
        for (long b : ballast) heap.free(b);
        ballast.clear();
        for (int i = n; i < 2 * n + 1; i++) assertThat(table.intern(StringTable.word(i))).isEqualTo(i);
        for (int i = 0; i < 2 * n + 1; i++) assertThat(table.get(i)).isEqualTo(StringTable.word(i));
    }
}
