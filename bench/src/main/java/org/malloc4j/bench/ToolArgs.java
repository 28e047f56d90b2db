package org.malloc4j.bench;

import java.util.Arrays;

/** What the in-JVM measuring tools ({@link LarsonScaling}, {@link XmallocInTurn}) share: argument checks, medians. */
final class ToolArgs {
    private ToolArgs() {}

    /** @return {@code text} as a positive int; else prints why (naming {@code tool} and {@code what}) and exits 2 */
    static int positive(String tool, String text, String what) {
        try {
            int v = Integer.parseInt(text);
            if (v > 0) return v;
        } catch (NumberFormatException e) {
            // reported below
        }
        System.err.println(tool + ": " + what + " must be a positive integer: " + text);
        System.exit(2);
        return 0;
    }

    /**
     * @return {@code name} if {@link Subject#open} knows it; else prints why (naming {@code tool} and the names it
     *         takes) and exits 2, as for the tools' other bad arguments, rather than a stack trace and status 1
     */
    static String subject(String tool, String name) {
        if (!Arrays.asList(Subject.NAMES).contains(name) && !Arrays.asList(Subject.DIAGNOSTIC_NAMES).contains(name)) {
            System.err.println(tool + ": unknown allocator '" + name + "': expected one of "
                    + String.join(", ", Subject.NAMES) + ", " + String.join(", ", Subject.DIAGNOSTIC_NAMES));
            System.exit(2);
        }
        return name;
    }

    /** @return the median of {@code values} (the mean of the middle two for an even count) */
    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
