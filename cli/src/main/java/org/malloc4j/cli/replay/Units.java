package org.malloc4j.cli.replay;

import java.util.Locale;

/** Formats figures for the table: bytes in B, KiB, MiB or GiB, ratios in percent, counts with separators. */
final class Units {
    private Units() {}

    /** @return {@code 512 B}, {@code 4.0 KiB}, {@code 20.0 MiB}; {@code n/a} for a negative value */
    static String bytes(long b) {
        if (b < 0) return "n/a";
        if (b < 1024) return b + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = b;
        int u = -1;
        while (v >= 1023.95 && u < units.length - 1) { // what would round to 1024.0 takes the next unit
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** @return {@code 93.1%}; {@code n/a} for NaN */
    static String percent(double ratio) {
        return Double.isNaN(ratio) ? "n/a" : String.format(Locale.ROOT, "%.1f%%", 100 * ratio);
    }

    /** @return {@code 1,451,261} */
    static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** @return {@code 35.2}; {@code failed} for NaN */
    static String nanos(double ns) {
        return Double.isNaN(ns) ? "failed" : String.format(Locale.ROOT, "%.1f", ns);
    }
}
