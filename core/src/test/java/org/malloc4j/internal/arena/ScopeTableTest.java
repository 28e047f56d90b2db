package org.malloc4j.internal.arena;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.malloc4j.Heap;
import org.malloc4j.Internals;

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

    /**
     * The table follows the arenas open now: after 100,000 arenas had been open at once and closed, it kept 262,144
     * slots of tombstones for good, which {@code arenas()} (every leak report, the heap's close) walked and every
     * lookup of a scope not in it (each free of a plain heap segment) probed through.
     */
    @Test
    void shrinksOnceMostArenasAreRemoved() throws ReflectiveOperationException {
        try (Heap heap = Heap.create()) {
            ScopeTable table = new ScopeTable();
            HeapArena arena = (HeapArena) heap.newArena();
            List<Object> scopes = new ArrayList<>();
            for (int i = 0; i < 100_000; i++) {
                Object scope = new Object();
                table.add(scope, arena);
                scopes.add(scope);
            }
            assertThat(slots(table)).isGreaterThanOrEqualTo(131_072);
            for (Object scope : scopes.subList(10, scopes.size())) table.remove(scope);
            assertThat(table.size()).isEqualTo(10);
            assertThat(slots(table)).as("slots for 10 arenas").isLessThanOrEqualTo(128);
            for (Object scope : scopes.subList(0, 10)) assertThat(table.get(scope)).isSameAs(arena);
            assertThat(table.get(scopes.get(10))).isNull();
            assertThat(table.arenas()).hasSize(10);
            for (Object scope : scopes.subList(0, 10)) table.remove(scope);
            assertThat(slots(table)).as("an empty table").isEqualTo(16);
            arena.close();
        }
    }

    private static int slots(ScopeTable table) throws ReflectiveOperationException {
        return ((Object[]) Internals.field(table, ScopeTable.class, "table")).length / 2;
    }
}
