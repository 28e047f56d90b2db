package org.malloc4j.internal.arena;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.malloc4j.Heap;

/** The scope table against a list as a model, through rebuilds and runs of tombstones. */
class ScopeTableTest {

    @Test
    void findsEveryArenaAddedAndNoneRemoved() {
        SplittableRandom random = new SplittableRandom(7);
        try (Heap heap = Heap.create()) {
            ScopeTable table = new ScopeTable();
            List<HeapArena> present = new ArrayList<>();
            List<HeapArena> removed = new ArrayList<>();
            for (int op = 0; op < 6_000; op++) {
                boolean add = present.size() < 400 ? random.nextInt(3) != 0 : random.nextInt(3) == 0;
                if (add || present.isEmpty()) {
                    HeapArena arena = (HeapArena) heap.newArena();
                    table.add(arena.scope(), arena);
                    present.add(arena);
                } else {
                    int i = random.nextInt(present.size());
                    HeapArena arena = present.get(i);
                    present.set(i, present.getLast());
                    present.removeLast();
                    table.remove(arena.scope());
                    removed.add(arena);
                }
                assertThat(table.size()).isEqualTo(present.size());
                if (op % 500 == 0) {
                    for (HeapArena a : present) assertThat(table.get(a.scope())).isSameAs(a);
                    for (HeapArena a : removed) assertThat(table.get(a.scope())).isNull();
                }
            }
            for (HeapArena a : present) assertThat(table.get(a.scope())).isSameAs(a);
            for (HeapArena a : removed) assertThat(table.get(a.scope())).isNull();
            assertThat(table.get(Arena.global().scope())).isNull();
            for (HeapArena a : present) a.close();
            for (HeapArena a : removed) a.close();
        }
    }
}
