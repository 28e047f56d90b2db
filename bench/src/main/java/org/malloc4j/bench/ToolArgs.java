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

    /** @return the median of {@code values} (the mean of the middle two for an even count) */
    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
