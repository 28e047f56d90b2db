package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * A write after free is a dangling pointer's write: where the block was freed says which pointer dangled. A double
 * free named it when sites were recorded, but until 2026-12-07 a write after free named only where the block was
 * allocated, though its free site was recorded too. It now names both, in the damage and in its message.
 */
class CheckedWriteAfterFreeNamesTheFreeTest {
    @Test
    void aBlockLeavingQuarantineNamesWhereItWasAllocatedAndFreed() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).trackSites(1).quarantine(64 << 10).jmx(false)
                .build()) {
            long p = allocateHere(heap);
            freeHere(heap, p);
            Blocks.ALL.set(ValueLayout.JAVA_BYTE, p + 8, (byte) 1);
            assertThat(heap.verify()).singleElement().satisfies(d -> {
                assertThat(d.kind()).isEqualTo(HeapDamage.Kind.WRITE_AFTER_FREE);
                assertThat(d.site()).anySatisfy(f -> assertThat(f.getMethodName()).isEqualTo("allocateHere"));
                assertThat(d.freedAt()).anySatisfy(f -> assertThat(f.getMethodName()).isEqualTo("freeHere"));
            });
            HeapCorruptionException e = catchThrowableOfType(HeapCorruptionException.class, () -> {
                for (int i = 0; i < 100_000; i++) heap.free(heap.malloc(64));
            });
            assertThat(e).isNotNull();
            assertThat(e.damage().address()).isEqualTo(p);
            assertThat(e).hasMessageContaining("write after free").hasMessageContaining("allocateHere")
                    .hasMessageContaining("freed").hasMessageContaining("freeHere");
        }
    }

    @Test
    void withoutSitesTheDamageNamesNoFree() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            long p = heap.malloc(56);
            heap.free(p);
            Blocks.ALL.set(ValueLayout.JAVA_BYTE, p + 8, (byte) 1);
            assertThat(heap.verify()).singleElement().satisfies(d -> assertThat(d.freedAt()).isEmpty());
            heap.trim(); // the block leaves quarantine: its damage is kept for close()
            assertThat(heap.verify()).singleElement().satisfies(d -> assertThat(d.freedAt()).isEmpty());
        }
    }

    private static long allocateHere(Heap heap) {
        return heap.malloc(56);
    }

    private static void freeHere(Heap heap, long p) {
        heap.free(p);
    }
}
