package org.malloc4j.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import org.malloc4j.Heap;
import org.malloc4j.HeapStack;
import org.junit.jupiter.api.Test;

class QsortDowncallTest {

    @Test
    void qsortSortsWithAJavaComparatorAndStrlenCountsUtf8Bytes() throws Throwable {
        int[] ints = new Random(7).ints(1_000, Integer.MIN_VALUE, Integer.MAX_VALUE).toArray();
        String[] words = {"pear", "apple", "fig", "", "banana", "crème brûlée", "apple"};
        try (Heap heap = Heap.create()) {
            QsortDowncall.Result r = QsortDowncall.run(heap, ints, words);

            int[] expected = ints.clone();
            Arrays.sort(expected);
            assertThat(r.sortedInts()).containsExactly(expected);
            assertThat(r.sortedWords()).containsExactly("", "apple", "apple", "banana", "crème brûlée", "fig", "pear");
            // strlen counts bytes: "crème brûlée" is 12 chars and 15 UTF-8 bytes.
            assertThat(r.lengths()).containsExactly(4, 5, 3, 0, 6, 15, 5);

            // The int block and every arena block are freed; the stack keeps its one block for this thread.
            assertThat(r.afterFree().liveBytes()).isZero();
            assertThat(r.afterFree().liveBlocks()).isZero();
            assertThat(r.afterStack().liveBlocks()).isEqualTo(1);
            assertThat(r.afterStack().liveBytes()).isEqualTo(HeapStack.DEFAULT_SIZE + 16); // and its 16-byte guard
        }
    }

    /** The figures main prints are the run's: the words sorted, their UTF-8 lengths, nothing live after. */
    @Test
    void mainRuns() throws Throwable {
        String out = Stdout.of(() -> QsortDowncall.main(new String[] {"pear", "fig", "crème brûlée"}));
        assertThat(out).contains("qsort, words: [crème brûlée, fig, pear]",
                "strlen(\"crème brûlée\") = 15 (UTF-8 bytes; 12 chars)", "heap after the arena closed: 0 live bytes");
    }
}
