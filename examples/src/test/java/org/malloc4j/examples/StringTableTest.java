package org.malloc4j.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.malloc4j.Heap;
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

    @Test
    void mainRuns() {
        StringTable.main(new String[] {"1000"});
    }
}
