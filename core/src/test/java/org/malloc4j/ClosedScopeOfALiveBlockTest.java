package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A segment whose scope is closed is never freed (its address may be another block's by now), and the refusal says
 * what is known: a live block's segment reinterpreted into an arena of the program's that closed since was refused
 * as "its block was already freed", in both modes, while the block was live (and stayed so). Now the refusal says
 * that a live block starts there, left as it is, and the two ways that comes about.
 */
class ClosedScopeOfALiveBlockTest {

    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void aLiveBlocksSegmentWhoseArenaClosedIsRefusedAsLive(HeapMode mode) {
        try (Heap heap = Heap.builder().mode(mode).failOnLeak(true).jmx(false).build()) {
            MemorySegment s = heap.allocate(64);
            s.set(ValueLayout.JAVA_LONG, 0, 42);
            MemorySegment t;
            try (Arena mine = Arena.ofConfined()) {
                t = s.reinterpret(mine, null);
            }
            String hex = "0x" + Long.toHexString(s.address());
            HeapStats before = heap.stats();
            for (Runnable call : new Runnable[] {() -> heap.free(t), () -> heap.reallocate(t, 128)}) {
                assertThatThrownBy(call::run).isInstanceOf(InvalidFreeException.class).hasMessageContaining(hex)
                        .hasMessageContaining("scope is closed").hasMessageContaining("a live block")
                        .hasMessageContaining("left as it is").hasMessageContaining("reinterpreted");
            }
            assertThat(heap.stats().liveBytes()).isEqualTo(before.liveBytes());
            assertThat(s.get(ValueLayout.JAVA_LONG, 0)).isEqualTo(42);
            heap.free(s); // live all along
        }
    }

    /**
     * CHECKED: a freed block's own segment still says so, with no live block at its address: as the double free it is
     * while the block waits in quarantine (CheckedSegmentDoubleFreeTest), as a closed scope once it has left.
     */
    @Test
    void aFreedBlocksSegmentIsStillRefusedAsFreed() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).failOnLeak(true).jmx(false).build()) {
            MemorySegment s = heap.allocate(64);
            heap.free(s);
            assertThatThrownBy(() -> heap.free(s)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("double free").hasMessageContaining("already freed")
                    .hasMessageContaining("waiting in quarantine");
        }
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(0).failOnLeak(true).jmx(false).build()) {
            MemorySegment s = heap.allocate(64);
            heap.free(s);
            assertThatThrownBy(() -> heap.free(s)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("scope is closed").hasMessageContaining("already freed")
                    .hasMessageContaining("no live block");
        }
    }
}
