package org.malloc4j.examples;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** What an example's {@code main} prints, for the tests that check its figures rather than only that it returns. */
final class Stdout {
    private Stdout() {}

    /** A {@code main} to run; it may throw what the example's {@code main} declares. */
    interface Main {
        void run() throws Throwable;
    }

    /** @return what {@code main} printed on {@code System.out} (restored afterwards, whatever it threw) */
    static String of(Main main) throws Throwable {
        PrintStream was = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            main.run();
        } finally {
            System.setOut(was);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** @return {@code n} as the examples print it ({@code %,d} in the default locale) */
    static String n(long n) {
        return String.format("%,d", n);
    }
}
