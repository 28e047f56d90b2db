package org.malloc4j.examples;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Arrays;
import org.malloc4j.Heap;
import org.malloc4j.HeapStats;
import org.malloc4j.StackFrame;

/**
 * Calls C from Java with the FFM API, with a malloc4j heap providing the native memory the calls take: libc's
 * {@code qsort} sorts an {@code int} array and an array of C strings, calling back into Java for every comparison
 * (an upcall), and {@code strlen} measures strings. The heap is a {@link java.lang.foreign.SegmentAllocator} in
 * three ways:
 * <ul>
 *   <li>the heap itself: {@code heap.allocateFrom(JAVA_INT, values)}, freed with {@code heap.free(segment)};
 *   <li>a heap arena: {@code heap.newArena()} is a {@link java.lang.foreign.Arena} whose segments come from the
 *       heap (small ones carved from shared chunks, larger ones a block each), all freed when it closes (it also
 *       owns the upcall stubs);
 *   <li>a stack frame: {@code heap.stack().push()}, for scratch memory freed in O(1) when the frame closes.
 * </ul>
 *
 * <p>Downcalls, upcalls and {@code reinterpret} are restricted methods: run with
 * {@code --enable-native-access=ALL-UNNAMED} (scripts/example.sh does) or the JDK prints a warning.
 *
 * <p>Run: {@code scripts/example.sh QsortDowncall [WORD...]}.
 */
public final class QsortDowncall {
    private QsortDowncall() {}

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();

    /** {@code void qsort(void *base, size_t nmemb, size_t size, int (*compar)(const void *, const void *))} */
    @SuppressWarnings("restricted") // creating downcall handles and upcall stubs
    private static final MethodHandle QSORT = LINKER.downcallHandle(LIBC.find("qsort").orElseThrow(),
            FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));

    /** {@code size_t strlen(const char *s)} */
    @SuppressWarnings("restricted") // creating downcall handles and upcall stubs
    private static final MethodHandle STRLEN = LINKER.downcallHandle(LIBC.find("strlen").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, ADDRESS));

    /** The comparator's C type: {@code int (*)(const void *, const void *)}. */
    private static final FunctionDescriptor COMPARATOR = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);

    /**
     * Compares two {@code int}s for qsort. C passes pointers to the elements; FFM gives them as segments of size 0,
     * which {@code reinterpret} widens to the element's size.
     */
    @SuppressWarnings("restricted")
    static int compareInts(MemorySegment a, MemorySegment b) {
        return Integer.compare(a.reinterpret(4).get(JAVA_INT, 0), b.reinterpret(4).get(JAVA_INT, 0));
    }

    /**
     * Compares two elements of a {@code char *} array for qsort: each argument points to a pointer to a
     * NUL-terminated string.
     */
    @SuppressWarnings("restricted")
    static int compareStrings(MemorySegment a, MemorySegment b) {
        String sa = readString(a.reinterpret(ADDRESS.byteSize()).get(ADDRESS, 0));
        String sb = readString(b.reinterpret(ADDRESS.byteSize()).get(ADDRESS, 0));
        return sa.compareTo(sb);
    }

    private static MethodHandle comparator(String name) throws ReflectiveOperationException {
        return MethodHandles.lookup().findStatic(QsortDowncall.class, name,
                MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class));
    }

    /**
     * What a run did.
     *
     * @param sortedInts the {@code int}s as qsort left them
     * @param sortedWords the words as qsort left their pointers
     * @param lengths {@code strlen} of each word, in the order given
     * @param afterFree the heap's figures once the int array and the arena are freed, before the stack is used
     * @param afterStack the heap's figures at the end: the calling thread keeps its stack's block (see
     *        {@link org.malloc4j.HeapStack}), so they show one live block of {@link org.malloc4j.HeapStack#size()}
     *        bytes and a 16-byte guard
     */
    public record Result(int[] sortedInts, String[] sortedWords, long[] lengths, HeapStats afterFree,
            HeapStats afterStack) {}

    /** Sorts {@code ints} and {@code words} with qsort and measures the words with strlen, on {@code heap}. */
    @SuppressWarnings("restricted") // creating downcall handles and upcall stubs
    public static Result run(Heap heap, int[] ints, String... words) throws Throwable {
        int[] sortedInts;
        String[] sortedWords = new String[words.length];
        long[] lengths = new long[words.length];

        // 1. The heap as a SegmentAllocator: one block holding the ints, freed by hand at the end.
        MemorySegment array = heap.allocateFrom(JAVA_INT, ints);
        try (Arena arena = heap.newArena()) {
            // The upcall stubs: function pointers that C can call, valid as long as the arena is open.
            MemorySegment byInt = LINKER.upcallStub(comparator("compareInts"), COMPARATOR, arena);
            MemorySegment byString = LINKER.upcallStub(comparator("compareStrings"), COMPARATOR, arena);

            QSORT.invokeExact(array, (long) ints.length, JAVA_INT.byteSize(), byInt);
            sortedInts = array.toArray(JAVA_INT);

            // 2. The arena as a SegmentAllocator: each word as a C string, and an array of pointers to them.
            MemorySegment pointers = arena.allocate(ADDRESS, words.length);
            for (int i = 0; i < words.length; i++) {
                pointers.setAtIndex(ADDRESS, i, arena.allocateFrom(words[i]));   // UTF-8, NUL-terminated
            }
            QSORT.invokeExact(pointers, (long) words.length, ADDRESS.byteSize(), byString);
            for (int i = 0; i < words.length; i++) {
                sortedWords[i] = readString(pointers.getAtIndex(ADDRESS, i));
            }
        } finally {
            // Closing the arena (above) freed every block it handed out; the heap's own segment is freed here.
            heap.free(array);
        }
        HeapStats afterFree = heap.stats();

        // 3. A stack frame as a SegmentAllocator: scratch C strings, all freed in O(1) when the frame closes.
        try (StackFrame frame = heap.stack().push()) {
            for (int i = 0; i < words.length; i++) {
                lengths[i] = (long) STRLEN.invokeExact(frame.allocateFrom(words[i]));
            }
        }
        return new Result(sortedInts, sortedWords, lengths, afterFree, heap.stats());
    }

    /** Reads the NUL-terminated UTF-8 string at a pointer that C returned (a segment of size 0). */
    @SuppressWarnings("restricted")
    private static String readString(MemorySegment pointer) {
        return pointer.reinterpret(Long.MAX_VALUE).getString(0);
    }

    /** Runs the example on a heap of its own and prints the results. */
    public static void main(String[] args) throws Throwable {
        String[] words = args.length > 0 ? args
                : new String[] {"pear", "apple", "fig", "banana", "cherry", "grape", "crème brûlée"};
        int[] ints = new java.util.Random(42).ints(20, -1000, 1000).toArray();
        try (Heap heap = Heap.create()) {
            Result r = run(heap, ints, words);
            System.out.println("qsort, ints:  " + Arrays.toString(r.sortedInts()));
            System.out.println("qsort, words: " + Arrays.toString(r.sortedWords()));
            for (int i = 0; i < words.length; i++) {
                System.out.printf("strlen(\"%s\") = %d (UTF-8 bytes; %d chars)%n", words[i], r.lengths()[i],
                        words[i].length());
            }
            System.out.printf("heap after the arena closed: %,d live bytes (%,d blocks allocated, %,d freed)%n",
                    r.afterFree().liveBytes(), r.afterFree().mallocCount(), r.afterFree().freeCount());
            System.out.printf("heap after the stack frame:  %,d live bytes (the thread's stack block)%n",
                    r.afterStack().liveBytes());
        }
    }
}
