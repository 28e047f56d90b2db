package org.malloc4j.examples;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import org.malloc4j.Heap;
import org.malloc4j.HeapStats;

/**
 * A growable table of interned strings kept entirely in native memory, managed by hand with {@code malloc},
 * {@code realloc}, {@code calloc} and {@code free} on raw addresses.
 *
 * <pre>
 *   entries (realloc'd array, 8 bytes an id)      one block per string
 *   [ id 0 ] ----------------------------------> [ int length | UTF-8 bytes ... ]
 *   [ id 1 ] ----------------------------------> [ int length | UTF-8 bytes ... ]
 *   ...
 *   index (calloc'd hash table, 4 bytes a slot: id + 1, 0 = empty), rebuilt twice as large when half full
 * </pre>
 *
 * <p>Each access goes through a {@link MemorySegment} of exactly the block's size, so that the JDK checks the
 * bounds: {@code MemorySegment.ofAddress(address).reinterpret(size)}. {@code reinterpret} is a restricted method,
 * one reason the JDK asks for {@code --enable-native-access}.
 *
 * <p>Run: {@code scripts/example.sh StringTable [COUNT]}.
 */
public final class StringTable implements AutoCloseable {
    private static final long LENGTH_BYTES = Integer.BYTES;

    private final Heap heap;
    /** Address of the array of string blocks' addresses, indexed by id; grown with realloc. */
    private long entries;
    private int capacity;
    private int size;
    /** Address of the open-addressing hash table: {@code indexSlots} ints, each an id + 1 (0 = empty slot). */
    private long index;
    private int indexSlots;
    private int reallocs;

    /** Opens an empty table whose memory comes from {@code heap}. */
    public StringTable(Heap heap) {
        this.heap = heap;
        this.capacity = 8;
        this.entries = heap.malloc(capacity * 8L);
        this.indexSlots = 16;
        try {
            this.index = heap.calloc(indexSlots, Integer.BYTES);   // calloc: every slot starts empty (0)
        } catch (Throwable t) {   // HeapExhaustedException (an Error): no table to close, so free the id array here
            heap.free(entries);
            throw t;
        }
    }

    /**
     * Returns the id of {@code s}, adding it to the table if it is not there yet.
     *
     * @throws IllegalStateException if the table is closed
     */
    public int intern(String s) {
        checkOpen();
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        int slot = findSlot(utf8);
        MemorySegment table = segment(index, (long) indexSlots * Integer.BYTES);
        int existing = table.getAtIndex(ValueLayout.JAVA_INT, slot);
        if (existing != 0) return existing - 1;

        if (size == capacity) {
            // Grow the id array first: realloc keeps the addresses already stored and may grow the block in place.
            // If it throws (HeapExhaustedException), the old block is untouched and so is the table: nothing has
            // been allocated yet, and capacity changes only once the larger block is there.
            entries = heap.realloc(entries, capacity * 2L * 8L);
            capacity *= 2;
            reallocs++;
        }
        if ((size + 1) * 2 > indexSlots) {
            // Grow the index before the string goes in, so that a failed calloc leaves the string out (the index
            // stays at most half full: with a full one, findSlot would look for an empty slot for ever).
            rehash();
            slot = findSlot(utf8);
            table = segment(index, (long) indexSlots * Integer.BYTES);
        }

        // A new string: one block holding its length and its bytes.
        long block = heap.malloc(LENGTH_BYTES + utf8.length);
        MemorySegment data = segment(block, LENGTH_BYTES + utf8.length);
        data.set(ValueLayout.JAVA_INT, 0, utf8.length);
        MemorySegment.copy(utf8, 0, data, ValueLayout.JAVA_BYTE, LENGTH_BYTES, utf8.length);
        int id = size++;
        segment(entries, capacity * 8L).setAtIndex(ValueLayout.JAVA_LONG, id, block);
        table.setAtIndex(ValueLayout.JAVA_INT, slot, id + 1);
        return id;
    }

    /**
     * Returns the id of {@code s}, or -1 if it was never interned.
     *
     * @throws IllegalStateException if the table is closed
     */
    public int lookup(String s) {
        checkOpen();
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        return segment(index, (long) indexSlots * Integer.BYTES).getAtIndex(ValueLayout.JAVA_INT, findSlot(utf8)) - 1;
    }

    /**
     * Returns the string with id {@code id}, read back from native memory.
     *
     * @throws IndexOutOfBoundsException if no string has that id
     * @throws IllegalStateException if the table is closed
     */
    public String get(int id) {
        checkOpen();
        if (id < 0 || id >= size) throw new IndexOutOfBoundsException("no string with id " + id);
        long block = segment(entries, capacity * 8L).getAtIndex(ValueLayout.JAVA_LONG, id);
        int length = segment(block, LENGTH_BYTES).get(ValueLayout.JAVA_INT, 0);
        byte[] utf8 = segment(block, LENGTH_BYTES + length).asSlice(LENGTH_BYTES).toArray(ValueLayout.JAVA_BYTE);
        return new String(utf8, StandardCharsets.UTF_8);
    }

    /** Returns the number of distinct strings. */
    public int size() {
        return size;
    }

    /** Returns how many times the id array was grown with {@code realloc}. */
    public int reallocs() {
        return reallocs;
    }

    /** Frees every string block, the id array and the index. */
    @Override
    public void close() {
        if (entries == 0) return;
        MemorySegment ids = segment(entries, capacity * 8L);
        for (int id = 0; id < size; id++) heap.free(ids.getAtIndex(ValueLayout.JAVA_LONG, id));
        heap.free(entries);
        heap.free(index);
        entries = index = 0;
    }

    /**
     * A closed table's addresses are 0: reading through them would crash the JVM (SIGSEGV), not throw, so every
     * access checks first.
     */
    private void checkOpen() {
        if (entries == 0) throw new IllegalStateException("the string table is closed");
    }

    /** Linear probing: the slot that holds {@code utf8}, or the empty slot where it would go. */
    private int findSlot(byte[] utf8) {
        MemorySegment table = segment(index, (long) indexSlots * Integer.BYTES);
        MemorySegment ids = segment(entries, capacity * 8L);
        MemorySegment key = MemorySegment.ofArray(utf8);
        int mask = indexSlots - 1;
        for (int slot = hash(utf8) & mask; ; slot = (slot + 1) & mask) {
            int entry = table.getAtIndex(ValueLayout.JAVA_INT, slot);
            if (entry == 0) return slot;
            long block = ids.getAtIndex(ValueLayout.JAVA_LONG, entry - 1);
            int length = segment(block, LENGTH_BYTES).get(ValueLayout.JAVA_INT, 0);
            if (length == utf8.length
                    && MemorySegment.mismatch(segment(block, LENGTH_BYTES + length), LENGTH_BYTES,
                            LENGTH_BYTES + length, key, 0, utf8.length) == -1) {
                return slot;
            }
        }
    }

    /** Builds an index twice as large (calloc: zeroed, so empty) and frees the old one. */
    private void rehash() {
        long oldIndex = index;
        index = heap.calloc(indexSlots * 2L, Integer.BYTES);
        heap.free(oldIndex);
        indexSlots *= 2;
        MemorySegment table = segment(index, (long) indexSlots * Integer.BYTES);
        MemorySegment ids = segment(entries, capacity * 8L);
        int mask = indexSlots - 1;
        for (int id = 0; id < size; id++) {
            long block = ids.getAtIndex(ValueLayout.JAVA_LONG, id);
            int length = segment(block, LENGTH_BYTES).get(ValueLayout.JAVA_INT, 0);
            byte[] utf8 = segment(block, LENGTH_BYTES + length).asSlice(LENGTH_BYTES).toArray(ValueLayout.JAVA_BYTE);
            int slot = hash(utf8) & mask;
            while (table.getAtIndex(ValueLayout.JAVA_INT, slot) != 0) slot = (slot + 1) & mask;
            table.setAtIndex(ValueLayout.JAVA_INT, slot, id + 1);
        }
    }

    private static int hash(byte[] utf8) {
        int h = 0x811c9dc5;                                    // FNV-1a
        for (byte b : utf8) h = (h ^ (b & 0xff)) * 0x01000193;
        return h ^ (h >>> 16);
    }

    /** A bounds-checked view of {@code bytes} bytes at a raw address. */
    @SuppressWarnings("restricted")
    private static MemorySegment segment(long address, long bytes) {
        return MemorySegment.ofAddress(address).reinterpret(bytes);
    }

    /**
     * What a run did.
     *
     * @param added strings interned (with repeats)
     * @param distinct distinct strings in the table
     * @param reallocs times the id array grew
     * @param roundTrips strings read back equal to what was interned
     * @param whileFull heap figures with the table full
     * @param afterClose heap figures after the table was closed
     */
    public record Result(int added, int distinct, int reallocs, int roundTrips, HeapStats whileFull,
            HeapStats afterClose) {}

    /**
     * Interns {@code count} strings ({@code max(1, count / 2)} distinct: each comes twice, and the first ones a third time when {@code count} is odd) into a table on
     * {@code heap}, reads every one back, looks up one that is absent, then closes the table.
     */
    public static Result run(Heap heap, int count) {
        HeapStats full;
        int distinct;
        int reallocs;
        int roundTrips = 0;
        try (StringTable table = new StringTable(heap)) {
            int kinds = Math.max(1, count / 2);
            for (int i = 0; i < count; i++) {
                String s = word(i % kinds);                    // each word comes twice: the second is found
                int id = table.intern(s);
                if (table.lookup(s) != id) throw new AssertionError("lookup(" + s + ") != " + id);
            }
            for (int k = 0; k < kinds; k++) {
                String s = word(k);
                int id = table.lookup(s);
                if (id >= 0 && table.get(id).equals(s)) roundTrips++;
            }
            if (table.lookup("never interned") != -1) throw new AssertionError("found a string never interned");
            distinct = table.size();
            reallocs = table.reallocs();
            full = heap.stats();
        }
        return new Result(count, distinct, reallocs, roundTrips, full, heap.stats());
    }

    /** The k-th test word: 9 to 50 or so bytes, some of them not ASCII. */
    static String word(int k) {
        return (k % 7 == 0 ? "chaîne-" : "string-") + k + "-" + "x".repeat(k % 40);
    }

    /** Runs the example on a heap of its own and prints what the heap did. */
    public static void main(String[] args) {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        try (Heap heap = Heap.create()) {
            Result r = run(heap, count);
            System.out.printf("interned %,d strings: %,d distinct, id array grown %d times with realloc%n",
                    r.added(), r.distinct(), r.reallocs());
            System.out.printf("read back %,d of %,d correctly%n", r.roundTrips(), r.distinct());
            System.out.printf("with the table full: %,d live bytes in %,d blocks, %,d committed%n",
                    r.whileFull().liveBytes(), r.whileFull().liveBlocks(), r.whileFull().committedBytes());
            System.out.printf("after close:         %,d live bytes in %,d blocks (%,d mallocs, %,d frees)%n",
                    r.afterClose().liveBytes(), r.afterClose().liveBlocks(), r.afterClose().mallocCount(),
                    r.afterClose().freeCount());
        }
    }
}
