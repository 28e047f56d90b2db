package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** CHECKED mode: red zones, junk and poison, quarantine, per-block segment scopes, and what each reports. */
class CheckedModeTest {
    private static final MemorySegment ALL = Blocks.ALL;

    private static Heap checked() {
        return Heap.builder().mode(HeapMode.CHECKED).jmx(false).build();
    }

    /** Overwrites the byte at {@code address} with a different value (whatever the canary there is). */
    private static void flip(long address) {
        ALL.set(ValueLayout.JAVA_BYTE, address, (byte) ~ALL.get(ValueLayout.JAVA_BYTE, address));
    }

    @Test
    void oneByteOverflowIsCaughtOnFreeAndTheHeapStaysUsable() {
        try (Heap heap = checked()) {
            long p = heap.malloc(24);
            flip(p + 24);
            assertThatThrownBy(() -> heap.free(p)).isInstanceOf(HeapCorruptionException.class)
                    .hasMessageContaining("overflow").hasMessageContaining("24 bytes")
                    .satisfies(e -> {
                        HeapDamage d = ((HeapCorruptionException) e).damage();
                        assertThat(d.kind()).isEqualTo(HeapDamage.Kind.OVERFLOW);
                        assertThat(d.address()).isEqualTo(p);
                        assertThat(d.offset()).isEqualTo(24);
                    });
            assertThat(heap.stats().liveBytes()).isZero();
            long q = heap.malloc(24);
            heap.free(q);
            assertThat(heap.verify()).isEmpty();
        }
    }

    /**
     * A 1-byte overflow and a 1-byte underflow are worded alike: the damaged byte's distance from the block's edge
     * (the overflow's message said "0 byte(s) past the end overwritten" for {@code p[size]}, as if none were).
     */
    @Test
    void oneByteOverflowAndUnderflowNameTheDamagedBytesDistanceFromTheBlock() {
        try (Heap heap = checked()) {
            long p = heap.malloc(24), q = heap.malloc(24);
            flip(p + 24);
            flip(q - 1);
            assertThatThrownBy(() -> heap.free(p)).hasMessageContaining("overflow: the red zone 1 byte(s) past the end");
            assertThatThrownBy(() -> heap.free(q)).hasMessageContaining("underflow: the red zone 1 byte(s) before");
            long r = heap.malloc(24);
            flip(r + 24 + 15); // the tail canary's last byte
            assertThatThrownBy(() -> heap.free(r)).hasMessageContaining("the red zone 16 byte(s) past the end");
        }
    }

    @Test
    void thirtyTwoByteOverflowIsCaughtByVerifyWithTheAllocationSite() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).trackSites(1).jmx(false).build()) {
            long p = heap.malloc(100);
            long other = heap.malloc(100);
            for (int i = 0; i < 32; i++) flip(p + 100 + i);
            List<HeapDamage> found = heap.verify();
            assertThat(found).hasSizeGreaterThanOrEqualTo(1);
            HeapDamage d = found.getFirst();
            assertThat(d.address()).isEqualTo(p);
            assertThat(d.kind()).isEqualTo(HeapDamage.Kind.OVERFLOW);
            assertThat(d.offset()).isEqualTo(100);
            assertThat(d.site()).anySatisfy(f -> assertThat(f.getMethodName())
                    .isEqualTo("thirtyTwoByteOverflowIsCaughtByVerifyWithTheAllocationSite"));
            assertThat(d.toString()).contains("CheckedModeTest");
            assertThatThrownBy(() -> heap.free(p)).isInstanceOf(HeapCorruptionException.class);
            heap.free(other);
        }
    }

    @Test
    void underflowIsCaughtWithTheBlockAndItsSize() {
        try (Heap heap = checked()) {
            long p = heap.malloc(40);
            flip(p - 1);
            assertThatThrownBy(() -> heap.free(p)).isInstanceOf(HeapCorruptionException.class)
                    .hasMessageContaining("underflow").hasMessageContaining("40 bytes")
                    .satisfies(e -> assertThat(((HeapCorruptionException) e).damage().offset()).isEqualTo(-1));
            assertThat(heap.stats().liveBlocks()).isZero();

            long q = heap.malloc(40);
            for (int i = 1; i <= 16; i++) flip(q - i);
            assertThat(heap.verify()).singleElement().satisfies(d -> {
                assertThat(d.kind()).isEqualTo(HeapDamage.Kind.UNDERFLOW);
                assertThat(d.address()).isEqualTo(q);
                assertThat(d.size()).isEqualTo(40);
                assertThat(d.offset()).isEqualTo(-16);
            });
            assertThatThrownBy(() -> heap.free(q)).isInstanceOf(HeapCorruptionException.class);
            assertThat(heap.verify()).isEmpty();
        }
    }

    @Test
    void doubleFreeNamesTheBlockAndWhereItWasAllocatedAndFirstFreed() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).trackSites(1).jmx(false).build()) {
            long p = allocateHere(heap);
            freeHere(heap, p);
            assertThatThrownBy(() -> heap.free(p)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("double free").hasMessageContaining("56 bytes")
                    .hasMessageContaining("allocateHere").hasMessageContaining("first freed")
                    .hasMessageContaining("freeHere");
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    private static long allocateHere(Heap heap) {
        return heap.malloc(56);
    }

    private static void freeHere(Heap heap, long p) {
        heap.free(p);
    }

    @Test
    void doubleFreeWithoutSitesStillNamesTheBlock() {
        try (Heap heap = checked()) {
            long p = heap.malloc(8192);
            heap.free(p);
            assertThatThrownBy(() -> heap.free(p)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("double free").hasMessageContaining("8192 bytes")
                    .hasMessageContaining("trackSites");
        }
    }

    @Test
    void delayedDoubleFreeAfterQuarantineIsStillRejected() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(64 << 10).jmx(false).build()) {
            long p = heap.malloc(64);
            heap.free(p);
            for (int i = 0; i < 10_000; i++) heap.free(heap.malloc(64)); // pushes p out of quarantine
            assertThatThrownBy(() -> heap.free(p)).isInstanceOf(InvalidFreeException.class);
            assertThat(heap.verify()).isEmpty();
        }
    }

    @Test
    void aDeadThreadsQuarantineIsEmptiedByStatsAndAWriteAfterFreeFoundThereIsReportedOnce() throws Exception {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(1 << 20).jmx(false).build()) {
            long[] freed = new long[1];
            Thread t = Thread.ofPlatform().start(() -> {
                long p = heap.malloc(64);
                heap.free(p); // into this thread's own quarantine ring
                ALL.set(ValueLayout.JAVA_BYTE, p + 8, (byte) 1); // a write after free
                freed[0] = p;
            });
            t.join();
            assertThat(heap.stats().liveBytes()).isZero(); // the dead thread's ring is emptied here
            assertThat(heap.verify()).singleElement().satisfies(d -> {
                assertThat(d.kind()).isEqualTo(HeapDamage.Kind.WRITE_AFTER_FREE);
                assertThat(d.address()).isEqualTo(freed[0]);
                assertThat(d.offset()).isEqualTo(8);
            });
            // Reported once: the block left the quarantine for the engine, so no walk finds it again.
            assertThat(heap.verify()).isEmpty();
        }
    }

    /** verify() lists its findings in address order, as its Javadoc says, those kept from a dead thread's ring too. */
    @Test
    void verifyListsDamageKeptFromADeadThreadsRingInAddressOrder() throws Exception {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(1 << 20).jmx(false).build()) {
            long live = heap.malloc(64); // this thread's slab first: below the other thread's
            long[] blocks = new long[8];
            Thread t = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < blocks.length; i++) blocks[i] = heap.malloc(64);
                for (long p : blocks) heap.free(p);
                for (long p : blocks) ALL.set(ValueLayout.JAVA_BYTE, p + 8, (byte) 1); // writes after free
            });
            t.join();
            assertThat(Arrays.stream(blocks).min().orElseThrow()).isGreaterThan(live);
            heap.stats(); // empties the dead thread's ring: the damage found there is kept for verify()
            flip(live + 64);
            List<Long> found = heap.verify().stream().map(HeapDamage::address).toList();
            assertThat(found).hasSize(blocks.length + 1).isSorted();
            assertThatThrownBy(() -> heap.free(live)).isInstanceOf(HeapCorruptionException.class);
        }
    }

    @Test
    void aDoubleFreeOfAQuarantinedBlockWithADamagedHeaderLeavesItInQuarantine() {
        // Released on the second free, the block's later eviction freed whatever live block then sat there
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            long p = heap.malloc(64);
            heap.free(p);
            flip(p - 1); // a stray write after free, into the header's hash
            assertThatThrownBy(() -> heap.free(p)).isInstanceOf(HeapCorruptionException.class)
                    .hasMessageContaining("waiting in quarantine");
            long q = heap.malloc(64);
            assertThat(q).isNotEqualTo(p); // p is still in quarantine, not the engine's to hand out
            List<HeapDamage> found = new ArrayList<>();
            for (int i = 0; i < 100_000; i++) {
                try {
                    heap.free(heap.malloc(128)); // pushes p out of quarantine
                } catch (HeapCorruptionException leaving) {
                    found.add(leaving.damage());
                }
            }
            // Its eviction, and nothing else, reports the damage: once, at p (a block dropped without a word, or
            // never evicted, would pass unseen without this)
            assertThat(found).as("reports while p left the quarantine").singleElement()
                    .satisfies(d -> assertThat(d.address()).isEqualTo(p));
            heap.free(q); // still live
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    @Test
    void aQuarantinedBlockWhoseHeaderWasOverwrittenIsReportedAndReleasedByTheEnginesSize() {
        // Its size byte flipped: trusted, the poison check walked a terabyte; its hash: the damage went unreported
        for (int at : new int[] {1, 10, 11}) {
            try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(64 << 10).jmx(false).build()) {
                long p = heap.malloc(64);
                heap.free(p);
                flip(p - at);
                List<HeapDamage> found = new ArrayList<>();
                for (int i = 0; i < 2_000; i++) {
                    try {
                        heap.free(heap.malloc(64));
                    } catch (HeapCorruptionException leaving) {
                        found.add(leaving.damage());
                    }
                }
                found.addAll(heap.verify());
                assertThat(found).as("byte p-%d", at).singleElement().satisfies(d -> {
                    assertThat(d.address()).isEqualTo(p);
                    assertThat(d.size()).isEqualTo(64);
                });
                assertThat(heap.stats().liveBlocks()).isZero();
                assertThat(heap.stats().liveBytes()).isZero();
            }
        }
    }

    @Test
    void reallocOfABlockWithADamagedTailTakesNoNewBlock() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            long p = heap.malloc(40);
            flip(p + 40);
            assertThatThrownBy(() -> heap.realloc(p, 80)).isInstanceOf(HeapCorruptionException.class)
                    .hasMessageContaining("overflow");
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    @Test
    void everyDamagedBlockThatOneFreePushesOutIsReported() throws Exception {
        // 96 bytes a 64-byte block with its red zones: two fit the 256-byte quarantine, and the free of a block
        // charged 182 bytes pushes both out. The free throws the first damage; the second waits. (Until 2026-12-07
        // a second thread's ring halved the share and this thread's next free pushed both out; a joining ring now
        // takes its lease back from this one itself, evicting the oldest block in its own free.)
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(256).jmx(false).build()) {
            long a = heap.malloc(64), b = heap.malloc(64), c = heap.malloc(150);
            heap.free(a);
            heap.free(b);
            ALL.set(ValueLayout.JAVA_BYTE, a + 1, (byte) 1);
            ALL.set(ValueLayout.JAVA_BYTE, b + 2, (byte) 2);
            assertThatThrownBy(() -> heap.free(c)).isInstanceOf(HeapCorruptionException.class)
                    .satisfies(e -> assertThat(((HeapCorruptionException) e).damage().address()).isEqualTo(a));
            assertThat(heap.verify()).singleElement().satisfies(d -> {
                assertThat(d.kind()).isEqualTo(HeapDamage.Kind.WRITE_AFTER_FREE);
                assertThat(d.address()).isEqualTo(b);
                assertThat(d.offset()).isEqualTo(2);
            });
        }
    }

    @Test
    void aRequestOverTheLimitFirstLetsTheQuarantineGo() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).limit(4L << 20).jmx(false).build()) {
            heap.free(heap.malloc(3L << 20)); // waits in quarantine: the engine still holds its 3 MiB
            long p = heap.malloc(3L << 20); // over the limit unless the quarantined block goes
            assertThat(heap.stats().liveBytes()).isEqualTo(3L << 20);
            heap.free(p);
            assertThat(heap.verify()).isEmpty();
        }
    }

    @Test
    void trimLetsTheQuarantineGoAndKeepsWhatItFindsForVerify() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            long p = heap.malloc(1 << 20);
            heap.free(p);
            ALL.set(ValueLayout.JAVA_BYTE, p + 100, (byte) 1); // a write after free, found as the block leaves
            assertThat(heap.stats().committedBytes()).isGreaterThanOrEqualTo(1 << 20);
            heap.trim();
            assertThat(heap.stats().committedBytes()).isLessThan(1 << 20);
            assertThat(heap.verify()).singleElement().satisfies(d -> {
                assertThat(d.kind()).isEqualTo(HeapDamage.Kind.WRITE_AFTER_FREE);
                assertThat(d.address()).isEqualTo(p);
                assertThat(d.offset()).isEqualTo(100);
            });
        }
    }

    @Test
    void writeAfterFreeIsFoundByVerifyAndWhenTheBlockLeavesQuarantine() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(64 << 10).jmx(false).build()) {
            long p = heap.malloc(64);
            heap.free(p);
            ALL.set(ValueLayout.JAVA_BYTE, p + 8, (byte) 1);
            assertThat(heap.verify()).singleElement().satisfies(d -> {
                assertThat(d.kind()).isEqualTo(HeapDamage.Kind.WRITE_AFTER_FREE);
                assertThat(d.address()).isEqualTo(p);
                assertThat(d.offset()).isEqualTo(8);
            });
            assertThatThrownBy(() -> {
                for (int i = 0; i < 100_000; i++) heap.free(heap.malloc(64));
            }).isInstanceOf(HeapCorruptionException.class).hasMessageContaining("write after free");
            assertThat(heap.verify()).isEmpty();
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    /**
     * The heap's first thread and other platform threads free through their own caches, found once a call; a virtual
     * thread through the shared stripes: each finds a double free, an overflow and a write after free, and keeps the
     * program's counts exact, with the quarantine cycling many times over.
     */
    @Test
    void everyKindOfThreadFindsTheSameDamageAndKeepsTheCountsExact() throws Exception {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(16 << 10).jmx(false).build()) {
            List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            Runnable checks = () -> {
                try {
                    long kept = heap.malloc(40);
                    for (int i = 0; i < 20_000; i++) heap.free(heap.malloc(16 + i % 200));
                    long p = heap.malloc(48);
                    heap.free(p);
                    assertThatThrownBy(() -> heap.free(p)).isInstanceOf(InvalidFreeException.class)
                            .hasMessageContaining("double free");
                    long q = heap.malloc(24);
                    flip(q + 24);
                    assertThatThrownBy(() -> heap.free(q)).isInstanceOf(HeapCorruptionException.class)
                            .hasMessageContaining("overflow");
                    long r = heap.malloc(64);
                    heap.free(r);
                    ALL.set(ValueLayout.JAVA_BYTE, r + 8, (byte) 1);
                    assertThatThrownBy(() -> {
                        for (int i = 0; i < 10_000; i++) heap.free(heap.malloc(64));
                    }).isInstanceOf(HeapCorruptionException.class).hasMessageContaining("write after free")
                            .satisfies(e -> assertThat(((HeapCorruptionException) e).damage().address()).isEqualTo(r));
                    assertThat(heap.usableSize(kept)).isEqualTo(40);
                    heap.free(kept);
                } catch (Throwable t) {
                    failures.add(t);
                }
            };
            checks.run(); // the heap's first thread
            Thread other = Thread.ofPlatform().start(checks);
            other.join();
            Thread virtual = Thread.ofVirtual().start(checks);
            virtual.join();
            assertThat(failures).isEmpty();
            HeapStats s = heap.stats();
            assertThat(s.liveBytes()).isZero();
            assertThat(s.liveBlocks()).isZero();
            assertThat(s.mallocCount()).isEqualTo(s.freeCount());
            assertThat(heap.verify()).isEmpty();
        }
    }

    /** A malloc refused on the thread's own-cache path counts nothing: the program's bytes stay exact. */
    @Test
    void smallMallocsRefusedAtTheLimitLeaveTheCountsExact() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).limit(4 << 20).quarantine(0).jmx(false).build()) {
            List<Long> blocks = new ArrayList<>();
            assertThatThrownBy(() -> {
                for (;;) blocks.add(heap.malloc(100));
            }).isInstanceOf(HeapExhaustedException.class);
            long total = blocks.size() * 100L;
            assertThat(blocks).hasSizeGreaterThan(10_000);
            HeapStats s = heap.stats();
            assertThat(s.liveBytes()).isEqualTo(total);
            assertThat(s.peakLiveBytes()).isEqualTo(total);
            assertThat(s.liveBlocks()).isEqualTo(blocks.size());
            for (long p : blocks) heap.free(p);
            assertThat(heap.stats().liveBytes()).isZero();
            assertThat(heap.verify()).isEmpty();
        }
    }

    @Test
    void newBlocksAreJunkFilledAndFreedOnesPoisoned() {
        try (Heap heap = checked()) {
            long p = heap.malloc(200);
            for (int i = 0; i < 200; i++) assertThat(ALL.get(ValueLayout.JAVA_BYTE, p + i)).isEqualTo((byte) 0xA5);
            heap.free(p);
            for (int i = 0; i < 200; i++) assertThat(ALL.get(ValueLayout.JAVA_BYTE, p + i)).isEqualTo((byte) 0xDF);
            long z = heap.calloc(10, 30);
            for (int i = 0; i < 300; i++) assertThat(ALL.get(ValueLayout.JAVA_BYTE, z + i)).isZero();
            heap.free(z);
        }
    }

    @Test
    void aFreedSegmentCannotBeAccessedAnyMore() {
        try (Heap heap = checked()) {
            MemorySegment s = heap.allocate(64, 8);
            MemorySegment slice = s.asSlice(8, 8);
            s.set(ValueLayout.JAVA_LONG, 0, 42);
            heap.free(s);
            assertThatThrownBy(() -> s.get(ValueLayout.JAVA_LONG, 0)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> slice.get(ValueLayout.JAVA_LONG, 0)).isInstanceOf(IllegalStateException.class);

            MemorySegment t = heap.allocate(32, 64);
            assertThat(t.address() % 64).isZero();
            heap.free(t.address()); // a raw free closes the segment's scope too
            assertThatThrownBy(() -> t.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    @Test
    void reallocMovesKeepsContentsAndRejectsFreedBlocks() {
        try (Heap heap = checked()) {
            long p = heap.malloc(16);
            ALL.set(ValueLayout.JAVA_LONG, p, 0x1122334455667788L);
            ALL.set(ValueLayout.JAVA_LONG, p + 8, -7L);
            long q = heap.realloc(p, 16);
            assertThat(q).isNotEqualTo(p);
            assertThat(ALL.get(ValueLayout.JAVA_LONG, q)).isEqualTo(0x1122334455667788L);
            assertThat(ALL.get(ValueLayout.JAVA_LONG, q + 8)).isEqualTo(-7L);
            assertThatThrownBy(() -> heap.realloc(p, 32)).isInstanceOf(InvalidFreeException.class);
            long r = heap.realloc(q, 100_000);
            assertThat(ALL.get(ValueLayout.JAVA_LONG, r)).isEqualTo(0x1122334455667788L);
            assertThat(heap.usableSize(r)).isEqualTo(100_000);
            assertThat(heap.realloc(r, 0)).isZero();
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    @Test
    void alignedBlocksHaveRedZonesToo() {
        try (Heap heap = checked()) {
            for (long align : new long[] {32, 4096, 1 << 20}) {
                long p = heap.alignedAlloc(align, 1000);
                assertThat(p % align).isZero();
                assertThat(heap.usableSize(p)).isEqualTo(1000);
                assertThat(heap.verify()).isEmpty();
                flip(p + 1000);
                assertThat(heap.verify()).singleElement().satisfies(d -> assertThat(d.address()).isEqualTo(p));
                assertThatThrownBy(() -> heap.free(p)).isInstanceOf(HeapCorruptionException.class);
            }
            assertThat(heap.stats().liveBytes()).isZero();
        }
    }

    @Test
    void invalidFreesAreRejectedWithoutHarm() {
        try (Heap heap = checked(); Heap other = checked()) {
            long p = heap.malloc(100);
            assertThatThrownBy(() -> heap.free(p + 16)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("inside the 100-byte block at 0x" + Long.toHexString(p) + " (offset 16)");
            assertThatThrownBy(() -> heap.free(p + 3)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("inside the 100-byte block at 0x" + Long.toHexString(p) + " (offset 3)");
            assertThatThrownBy(() -> heap.free(p + 4096 + 3)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("16-byte aligned");
            assertThatThrownBy(() -> other.free(p)).isInstanceOf(InvalidFreeException.class);
            assertThatThrownBy(() -> heap.free(12345)).isInstanceOf(InvalidFreeException.class);
            assertThat(heap.verify()).isEmpty();
            assertThat(heap.usableSize(p)).isEqualTo(100);
            heap.free(p);
        }
    }

    @Test
    void statsCountTheProgramsBytesNotTheRedZones() {
        try (Heap heap = checked()) {
            List<Long> blocks = new ArrayList<>();
            long total = 0;
            for (int i = 0; i < 1000; i++) {
                long size = (i * 37L) % 5000;
                blocks.add(heap.malloc(size));
                total += size;
            }
            blocks.add(heap.alignedAlloc(256, 10));
            total += 10;
            HeapStats s = heap.stats();
            assertThat(s.liveBytes()).isEqualTo(total);
            assertThat(s.liveBlocks()).isEqualTo(1001);
            for (long p : blocks) heap.free(p);
            s = heap.stats();
            assertThat(s.liveBytes()).isZero();
            assertThat(s.liveBlocks()).isZero();
            assertThat(heap.mode()).isEqualTo(HeapMode.CHECKED);
        }
    }

    @Test
    void thePeakOfLiveBytesIsTheProgramsToo() {
        // Red zones of blocks freed since, and blocks waiting in quarantine, never count in the peak
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(0).jmx(false).build()) {
            long[] empty = new long[1000];
            for (int i = 0; i < empty.length; i++) empty[i] = heap.malloc(0);
            for (long p : empty) heap.free(p);
            heap.free(heap.alignedAlloc(4096, 10));
            assertThat(heap.stats().liveBytes()).isZero();
            assertThat(heap.stats().peakLiveBytes()).isEqualTo(10);
        }
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            long[] blocks = new long[10];
            for (int i = 0; i < blocks.length; i++) blocks[i] = heap.malloc(100);
            for (long p : blocks) heap.free(p); // all ten wait in quarantine
            long p = heap.malloc(50);
            assertThat(heap.stats().liveBytes()).isEqualTo(50);
            assertThat(heap.stats().peakLiveBytes()).isEqualTo(1000);
            heap.free(p);
        }
    }

    @Test
    void arenasAndStacksWorkOnACheckedHeap() {
        try (Heap heap = checked()) {
            try (Arena arena = heap.newArena()) {
                MemorySegment s = arena.allocate(100, 32);
                s.fill((byte) 7);
                heap.free(arena.allocate(10));
            }
            try (StackFrame frame = heap.stack().push()) {
                MemorySegment s = frame.allocateFrom("hello");
                assertThat(s.getString(0)).isEqualTo("hello");
            }
            assertThat(heap.verify()).isEmpty();
        }
    }

    @Test
    void concurrentFreesOfOneBlockLetExactlyOneSucceed() throws Exception {
        try (Heap heap = checked()) {
            for (int round = 0; round < 200; round++) {
                long p = heap.malloc(48);
                int[] ok = new int[2];
                Thread[] t = new Thread[2];
                for (int i = 0; i < 2; i++) {
                    int k = i;
                    t[i] = new Thread(() -> {
                        try {
                            heap.free(p);
                            ok[k] = 1;
                        } catch (InvalidFreeException e) {
                            ok[k] = 0;
                        }
                    });
                }
                for (Thread x : t) x.start();
                for (Thread x : t) x.join();
                assertThat(ok[0] + ok[1]).isEqualTo(1);
            }
            assertThat(heap.stats().liveBlocks()).isZero();
            assertThat(heap.verify()).isEmpty();
        }
    }
}
